/**
 * The adapter-bound benchmark's engine: a tiny node:http server that reads each request and
 * answers a fixed Piston reply at once, so every cost measured in front of it is the hop's.
 * ZERO_ENGINE_DELAY_MS holds each execute that long (the overload section's busy engine,
 * without spending CPU). Listens on loopback, on the port of PISTON_BIND_ADDRESS when the
 * adapter launches it, else ZERO_ENGINE_PORT (0: any), and prints {"msg":"listening","port":N}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Recorded from Piston 3.1.1 (../shared/piston-fixtures/python_hello.json). */
const EXECUTE_REPLY = JSON.stringify({
  run: { stdout: 'Hello, World!\n', stderr: '', code: 0, signal: null, output: 'Hello, World!\n' },
  language: 'python',
  version: '3.11.2',
});
const RUNTIMES_REPLY = JSON.stringify([
  { language: 'python', version: '3.11.2', aliases: ['py', 'py3', 'python3'] },
]);

const delayMs = Number(process.env.ZERO_ENGINE_DELAY_MS ?? '0');
function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/api/v2/runtimes') return send(res, 200, RUNTIMES_REPLY);
    if (req.method === 'POST' && path === '/api/v2/execute') {
      if (delayMs > 0) setTimeout(() => send(res, 200, EXECUTE_REPLY), delayMs);
      else send(res, 200, EXECUTE_REPLY);
      return;
    }
    send(res, 404, '{"message":"Not Found"}');
  });
});
// As Piston (express on node:http) does.
server.keepAliveTimeout = 5_000;
// Launched by the adapter's supervisor it is told where to listen, as Piston is.
const bindPort = process.env.PISTON_BIND_ADDRESS?.split(':').pop() ?? process.env.ZERO_ENGINE_PORT;
server.listen(Number(bindPort ?? '0'), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
