/**
 * The ingress server against slow and broken clients: headers or a body that do not arrive
 * in time get 408, malformed HTTP 400, oversized headers 431, each as the adapter's JSON error
 * on a closed connection; and a drain ends keep-alive so busy clients let go.
 */
import http from 'node:http';
import net from 'node:net';
import { closeIngress, openIngress, type Ingress } from '../../adapter/supervisor/ingress';
import { createLogger } from '../../adapter/logging/logger';
import { waitFor } from '../support/waitFor';

let ingress: Ingress | undefined;

afterEach(async () => {
  ingress?.server.closeAllConnections();
  await new Promise((resolve) => ingress?.server.close(resolve) ?? resolve(undefined));
  ingress = undefined;
});

/** Writes `parts` (a gap of gapMs between them) and reads until the server closes. */
function raw(port: number, parts: string[], gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let pacer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(pacer);
      resolve(received);
    });
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 10 s; received: ${received}`));
    }, 10_000);
    socket.on('close', () => clearTimeout(deadline));
    let index = 0;
    const next = () => {
      const part = parts[index];
      index += 1;
      if (part === undefined || socket.destroyed) return;
      socket.write(part);
      pacer = setTimeout(next, gapMs);
    };
    socket.once('connect', next);
  });
}

function parse(answer: string): { status: number; headers: string; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return {
    status: Number(head.split(' ')[1]),
    headers: head.toLowerCase(),
    body: JSON.parse(body),
  };
}

const app: http.RequestListener = (req, res) => {
  // Reads the whole body, then answers: a slow body keeps the request open.
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
};

async function open(
  timeouts = { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 5_000 },
) {
  ingress = await openIngress(app, '127.0.0.1', 0, timeouts);
  return ingress.port;
}

test('headers that do not arrive within HEADERS_TIMEOUT_MS: 408 JSON, connection closed', async () => {
  const port = await open();
  const answer = parse(await raw(port, ['POST / HTTP/1.1\r\n', 'host: x\r\n', 'x-a: 1\r\n'], 200));
  expect(answer.status).toBe(408);
  expect(answer.headers).toContain('connection: close');
  expect(answer.body).toMatchObject({ error: { code: 'request_timeout', source: 'adapter' } });
});

test('a body that does not arrive within REQUEST_TIMEOUT_MS: 408 JSON', async () => {
  const port = await open();
  const head =
    'POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n';
  const answer = parse(await raw(port, [head, '{"a":', '1']));
  expect(answer.status).toBe(408);
  expect(answer.body).toMatchObject({ error: { code: 'request_timeout' } });
});

test.each([
  ['an unknown method', 400, 'malformed_request', 'BREW / HTTP/1.1\r\nhost: x\r\n\r\n'],
  ['a broken header line', 400, 'malformed_request', 'GET / HTTP/1.1\r\nhost x\r\n\r\n'],
  [
    'a bad chunk size',
    400,
    'malformed_request',
    'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n',
  ],
  [
    'headers over 16 KiB',
    431,
    'headers_too_large',
    `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
  ],
])('%s: %i %s as JSON', async (_name, status, code, request) => {
  const port = await open({
    headersTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
  });
  const answer = parse(await raw(port, [request]));
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ error: { code, source: 'adapter' } });
});

test('an idle kept-alive connection outlives the headers timeout', async () => {
  const port = await open({
    headersTimeoutMs: 100,
    requestTimeoutMs: 200,
    keepAliveTimeoutMs: 5_000,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = http.get({ port, agent, path: '/' }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
  expect(await get()).toEqual({ status: 200, reused: false });
  // Idle for several headers timeouts (and node's 100 ms check interval): the point of the test.
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await get()).toEqual({ status: 200, reused: true });
  agent.destroy();
});

test('a drain answers the requests under way with connection: close', async () => {
  let releaseSlow = () => undefined as void;
  const slow = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });
  let arrived = 0;
  ingress = await openIngress(
    (_req, res) => {
      arrived += 1;
      void slow.then(() => res.end('done'));
    },
    '127.0.0.1',
    0,
  );
  const { port, server } = ingress;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reply = new Promise<string | undefined>((resolve, reject) => {
    http
      .get({ port, agent, path: '/' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      })
      .on('error', reject);
  });
  await waitFor(() => arrived === 1, { what: 'the request to arrive' });
  const closing = closeIngress(server, 5_000, () => 1, createLogger('silent'));
  releaseSlow();
  expect(await reply).toBe('close');
  await closing;
  agent.destroy();
  ingress = undefined;
});
