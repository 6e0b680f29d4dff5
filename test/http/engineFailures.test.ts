import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { loadFixture } from '../support/fixtures';
import { buildTestApp, type TestApp } from '../support/testApp';
import { waitFor } from '../support/waitFor';

let engine: FakeEngine;
let adapter: TestApp;
const apps: TestApp[] = [];

beforeEach(async () => {
  engine = await startFakeEngine();
  adapter = buildTestApp(engine.url);
  apps.push(adapter);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await engine.close();
});

/** A loopback port with nothing listening: bound, read, closed. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('engine failures, each said plainly', () => {
  test('engine not listening: 503 engine_unavailable with Retry-After', async () => {
    const down = buildTestApp(await closedPortUrl());
    apps.push(down);
    const response = await request(down.app).post('/python/execute').send({ code: '1' });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('engine_unavailable');
    expect(response.headers['retry-after']).toBeDefined();
  });

  test('passthrough to an engine not listening: the same table answer, header and count', async () => {
    const down = buildTestApp(await closedPortUrl());
    apps.push(down);
    const response = await request(down.app).get('/api/v2/runtimes');
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-ms-error-code']).toBe('engine_unavailable');
    expect(response.headers['retry-after']).toBe('2');
    expect(response.body.error).toMatchObject({ code: 'engine_unavailable', source: 'adapter' });
    const status = await request(down.app).get('/');
    expect(JSON.stringify(status.body)).toContain('engine_unavailable');
  });

  test('engine 5xx (empty body, as Piston answers a path escape): 502 engine_error', async () => {
    engine.executeReplies = [{ status: 500, body: '', raw: true }];
    const response = await request(adapter.app).post('/python/execute').send({ code: '1' });
    expect(response.status).toBe(502);
    expect(response.body.error).toMatchObject({
      code: 'engine_error',
      engineStatus: 500,
      source: 'engine',
    });
  });

  test('engine 400 with a message: passed on as 400 with that message', async () => {
    engine.executeReplies = [
      { status: 400, body: { message: 'python-3.11.2 runtime is unknown' } },
    ];
    const response = await request(adapter.app).post('/python/execute').send({ code: '1' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('engine_rejected_request');
    expect(response.body.error.message).toContain('python-3.11.2 runtime is unknown');
  });

  test('engine answers non-JSON 200: 502 engine_bad_response', async () => {
    engine.executeReplies = [{ status: 200, body: '<html>', raw: true }];
    const response = await request(adapter.app).post('/python/execute').send({ code: '1' });
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('engine_bad_response');
  });

  test('engine slower than run timeout plus margin: 504 engine_timeout', async () => {
    const slow = buildTestApp(engine.url, { ENGINE_DEADLINE_MARGIN_MS: '50' });
    apps.push(slow);
    engine.executeReplies = [{ status: 200, body: {}, delay: new Promise(() => undefined) }];
    const response = await request(slow.app)
      .post('/python/execute')
      .send({ properties: { code: '1', timeoutInSeconds: 0.05 } });
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe('engine_timeout');
  });

  test('engine drops the connection mid-request: 502 engine_connection_lost', async () => {
    engine.executeReplies = [{ status: 200, body: {}, delay: new Promise(() => undefined) }];
    const pending = request(adapter.app)
      .post('/python/execute')
      .send({ code: '1' })
      .then((r) => r);
    await waitFor(() => engine.received.some((r) => r.path === '/api/v2/execute'));
    engine.dropConnections();
    const response = await pending;
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('engine_connection_lost');
  });

  test('engine declared lost by the supervisor: requests in flight fail fast with 502', async () => {
    engine.executeReplies = [{ status: 200, body: {}, delay: new Promise(() => undefined) }];
    const pending = request(adapter.app)
      .post('/python/execute')
      .send({ code: '1' })
      .then((r) => r);
    await waitFor(() => adapter.inFlight() === 1);
    adapter.engineState.update({ state: 'restarting', reason: 'engine exited (signal SIGKILL)' });
    const response = await pending;
    expect(response.status).toBe(502);
    expect(response.body.error.message).toContain('SIGKILL');
    expect(adapter.inFlight()).toBe(0);
  });

  test.each([
    ['starting', 'engine_not_ready'],
    ['restarting', 'engine_not_ready'],
    ['degraded', 'engine_not_ready'],
    ['stopping', 'shutting_down'],
  ] as const)('engine %s: 503 %s with the reason and Retry-After', async (state, code) => {
    adapter.engineState.update({ state, reason: 'Combined cgroup v1+v2 mode is not supported' });
    const response = await request(adapter.app).post('/python/execute').send({ code: '1' });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toContain('Combined cgroup v1+v2 mode is not supported');
    expect(response.body.error.engineState).toBe(state);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(engine.received.filter((r) => r.path === '/api/v2/execute')).toHaveLength(0);
  });

  test('a client that disconnects leaves its engine request to finish', async () => {
    let finish: (value?: unknown) => void = () => undefined;
    const held = new Promise((resolve) => (finish = resolve));
    engine.executeReplies = [{ status: 200, body: loadFixture('python_hello').body, delay: held }];
    const server = adapter.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const clientRequest = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/python/execute',
        headers: { 'content-type': 'application/json' },
      });
      clientRequest.on('error', () => undefined);
      clientRequest.end(JSON.stringify({ code: 'import time; time.sleep(60)' }));
      await waitFor(() => adapter.inFlight() === 1);
      clientRequest.destroy();
      // Piston would run the job anyway: the call (and its slot) lasts until the engine answers.
      await waitFor(() => engine.received.length > 0 && adapter.inFlight() === 1);
      finish();
      await waitFor(() => adapter.inFlight() === 0);
      expect(engine.abandoned).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
