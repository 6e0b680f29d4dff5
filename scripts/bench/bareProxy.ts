/**
 * The floor any Node hop pays: a bare node:http reverse proxy with a keep-alive agent, no
 * framework, no parsing, no logging. Forwards everything to BARE_PROXY_TARGET (a URL) and
 * prints {"msg":"listening","port":N}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const target = new URL(process.env.BARE_PROXY_TARGET ?? 'http://127.0.0.1:2001');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
