/**
 * Engine calls reuse kept-alive connections, and never hold more sockets than the pool's
 * bound (MAX_CONCURRENT_JOBS + 8), however many requests arrive at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { loadFixture } from '../support/fixtures';
import { buildTestApp, type TestApp } from '../support/testApp';
import { waitFor } from '../support/waitFor';

interface CountingEngine {
  url: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open right now, and the most seen at once. */
  open: number;
  peakOpen: number;
  /** Replies wait for this while set. */
  hold: Promise<void> | null;
  waiting: number;
  close(): Promise<void>;
}

async function startCountingEngine(): Promise<CountingEngine> {
  const runtimes = JSON.stringify(loadFixture('runtimes').body);
  const hello = JSON.stringify(loadFixture('python_hello').body);
  const sockets = new Set<import('node:net').Socket>();
  const engine: Omit<CountingEngine, 'url' | 'close'> = {
    accepted: 0,
    open: 0,
    peakOpen: 0,
    hold: null,
    waiting: 0,
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      void (async () => {
        if (req.url === '/api/v2/execute' && engine.hold !== null) {
          engine.waiting += 1;
          await engine.hold;
          engine.waiting -= 1;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.url === '/api/v2/runtimes' ? runtimes : hello);
      })();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    engine.accepted += 1;
    engine.open += 1;
    engine.peakOpen = Math.max(engine.peakOpen, engine.open);
    sockets.add(socket);
    socket.on('close', () => {
      engine.open -= 1;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(engine, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

let engine: CountingEngine;
let adapter: TestApp | undefined;

beforeEach(async () => {
  engine = await startCountingEngine();
});
afterEach(async () => {
  await adapter?.close();
  adapter = undefined;
  await engine.close();
});

const execute = (app: TestApp) =>
  request(app.app)
    .post('/python/execute')
    .send({ properties: { code: 'print(1)' } });

test('one request after another: one kept-alive connection to the engine', async () => {
  adapter = buildTestApp(engine.url, { PYTHON_RESULT: 'false' });
  for (let i = 0; i < 20; i += 1) expect((await execute(adapter)).status).toBe(200);
  // The runtimes lookup and twenty executions, all on the same socket.
  expect(engine.accepted).toBe(1);
});

test('a burst: never more engine sockets than MAX_CONCURRENT_JOBS + 8', async () => {
  adapter = buildTestApp(engine.url, {
    PYTHON_RESULT: 'false',
    MAX_CONCURRENT_JOBS: '2',
    // A wide gate, so the pool's bound is what limits the sockets.
    MAX_IN_FLIGHT: '40',
  });
  expect((await execute(adapter)).status).toBe(200);
  let release = () => undefined as void;
  engine.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  const running = adapter;
  const burst = Array.from({ length: 30 }, () => execute(running).then((r) => r.status));
  await waitFor(() => engine.waiting === 10, { what: 'ten executions held at the engine' });
  expect(engine.peakOpen).toBe(10);
  release();
  engine.hold = null;
  expect(await Promise.all(burst)).toEqual(burst.map(() => 200));
  expect(engine.peakOpen).toBe(10);
});
