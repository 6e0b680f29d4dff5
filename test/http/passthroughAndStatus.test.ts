import request from 'supertest';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { loadFixture } from '../support/fixtures';
import { buildTestApp, type TestApp } from '../support/testApp';

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

describe('/api/v2 passthrough', () => {
  test('GET /api/v2/runtimes reaches the engine unchanged', async () => {
    const response = await request(adapter.app).get('/api/v2/runtimes');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(engine.runtimes);
    expect(response.headers['x-served-by']).toContain('passthrough');
  });

  test('POST /api/v2/execute streams the body through untouched', async () => {
    const body = '{"language":"python","version":"*","files":[{"content":"print(1)"}]}';
    const response = await request(adapter.app)
      .post('/api/v2/execute?x=1')
      .set('content-type', 'application/json')
      .send(body);
    expect(response.status).toBe(200);
    const received = engine.received.find((r) => r.path === '/api/v2/execute?x=1');
    expect(received?.body).toEqual(JSON.parse(body));
  });

  test("the engine's own errors pass through as they are", async () => {
    const response = await request(adapter.app).get('/api/v2/nope');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ message: 'Not Found' });
  });

  // Recorded: Piston answers '.' as a file name, a path escape or a NUL in args with an
  // empty 500 (python_file_name_dot, error_path_escape, python_args_nul_byte).
  test.each(['python_file_name_dot', 'error_path_escape', 'python_args_nul_byte'])(
    "the engine's empty %s 500 comes back as JSON that says what Piston meant",
    async (name) => {
      const fixture = loadFixture(name);
      expect(fixture).toMatchObject({ status: 500, body: '' });
      engine.executeReplies = [{ status: 500, body: '', raw: true }];
      const response = await request(adapter.app)
        .post('/api/v2/execute')
        .send(fixture.request.body as object);
      expect(response.status).toBe(500);
      expect(response.headers['content-type']).toMatch(/application\/json/);
      // Written by the adapter, which says so.
      expect(response.headers['x-served-by']).not.toContain('passthrough');
      expect(response.body.error).toMatchObject({
        code: 'engine_empty_error',
        source: 'engine',
        engineStatus: 500,
      });
      expect(response.body.error.message).toContain('file name');
      // The slot went back: the next job through the passthrough gets the engine.
      engine.executeReplies = [{ status: 200, body: { run: { stdout: '1' } } }];
      const next = await request(adapter.app)
        .post('/api/v2/execute')
        .send(fixture.request.body as object);
      expect(next.status).toBe(200);
    },
  );

  test('an engine error with a body passes through as it is', async () => {
    engine.executeReplies = [{ status: 400, body: { message: 'python-* runtime is unknown' } }];
    const response = await request(adapter.app)
      .post('/api/v2/execute')
      .send({ language: 'python', version: '*', files: [{ content: '1' }] });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ message: 'python-* runtime is unknown' });
  });

  test.each([
    ['post', '/api/v2/packages'],
    ['delete', '/api/v2/packages'],
    ['get', '/api/v2/packages'],
    ['post', '/API/V2/PACKAGES'],
    ['post', '/api/v2//packages/'],
  ] as const)('%s %s is refused with 403 by default', async (method, path) => {
    const agent = request(adapter.app);
    const response = await agent[method](path).send({ language: 'python', version: '*' });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('package_management_disabled');
    expect(response.body.error.message).toContain('ALLOW_PACKAGE_MANAGEMENT');
    expect(engine.received.filter((r) => /packages/i.test(r.path))).toHaveLength(0);
  });

  test('package management passes through when enabled', async () => {
    const open = buildTestApp(engine.url, { ALLOW_PACKAGE_MANAGEMENT: 'true' });
    apps.push(open);
    await request(open.app).post('/api/v2/packages').send({ language: 'python', version: '*' });
    expect(engine.received.filter((r) => r.path === '/api/v2/packages')).toHaveLength(1);
  });

  test('engine not ready: 503 JSON with the reason instead of a proxy error', async () => {
    adapter.engineState.update({ state: 'restarting', reason: 'engine exited with code 1' });
    const response = await request(adapter.app).get('/api/v2/runtimes');
    expect(response.status).toBe(503);
    expect(response.body.error.message).toContain('engine exited with code 1');
  });

  test('engine gone: JSON 502/503 from the adapter, not a plain-text proxy page', async () => {
    await engine.close();
    const response = await request(adapter.app).get('/api/v2/runtimes');
    expect([502, 503]).toContain(response.status);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.body.error.code).toMatch(/^engine_/);
    engine = await startFakeEngine();
  });
});

describe('status routes', () => {
  test('GET /health is 200 when the engine answers', async () => {
    const response = await request(adapter.app).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok', engine: 'ready' });
  });

  test('GET /health is 503 with the reason when the engine is not ready', async () => {
    adapter.engineState.update({
      state: 'degraded',
      reason: 'engine exited with code 1: Combined cgroup v1+v2 mode is not supported',
      restarts: 2,
    });
    const response = await request(adapter.app).get('/health');
    expect(response.status).toBe(503);
    expect(response.body.error.message).toContain('Combined cgroup v1+v2 mode is not supported');
    expect(response.body.error.restarts).toBe(2);
  });

  test('GET /health is 503 when the engine stops answering though marked ready', async () => {
    await engine.close();
    const response = await request(adapter.app).get('/health');
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('engine_unhealthy');
    engine = await startFakeEngine();
  });

  test('GET /runtimes lists languages, versions and aliases', async () => {
    const response = await request(adapter.app).get('/runtimes');
    expect(response.status).toBe(200);
    expect(response.body.defaultLanguage).toBe('python');
    expect(response.body.runtimes).toContainEqual({
      language: 'python',
      version: '3.11.2',
      aliases: ['py', 'py3', 'python3', 'python3.11'],
    });
    expect(response.body.runtimes).toContainEqual(
      expect.objectContaining({ language: 'c++', runtime: 'gcc' }),
    );
  });

  test('GET / lists the runtimes on the first request, before anything else asked for them', async () => {
    const response = await request(adapter.app).get('/');
    expect(response.status).toBe(200);
    expect(response.body.runtimes).toEqual(engine.runtimes);
  });

  test('GET / still answers, with no runtimes, while the engine is not ready', async () => {
    adapter.engineState.update({ state: 'restarting', reason: 'engine exited with code 1' });
    const response = await request(adapter.app).get('/');
    expect(response.status).toBe(200);
    expect(response.body.runtimes).toEqual([]);
    expect(engine.received.filter((r) => r.path === '/api/v2/runtimes')).toHaveLength(0);
  });

  test('GET / counts requests, executions per language, errors per kind and identifiers', async () => {
    await request(adapter.app).post('/py/execute?identifier=alpha').send({ code: '1' }).expect(200);
    await request(adapter.app).post('/py/execute?identifier=alpha').send({ code: '1' }).expect(200);
    await request(adapter.app).post('/js/execute?identifier=beta').send({ code: '1' }).expect(200);
    await request(adapter.app)
      .post('/nope/execute?identifier=beta')
      .send({ code: '1' })
      .expect(404);
    const response = await request(adapter.app).get('/');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      name: 'piston-session-adapter',
      version: expect.any(String),
      uptimeSeconds: expect.any(Number),
      engine: { state: 'ready', url: engine.url },
      executionsByLanguage: { python: 2, javascript: 1 },
      errorsByCode: { unknown_language: 1 },
      requests: { total: 4, byStatus: { '2xx': 3, '4xx': 1 } },
      identifiers: { tracked: 2 },
    });
    expect(response.body.identifiers.recent.alpha.operations).toBe(2);
    expect(response.body.runtimes.length).toBeGreaterThan(0);
  });

  test('identifiers kept for GET / are bounded, oldest evicted first', async () => {
    const small = buildTestApp(engine.url, { IDENTIFIERS_TRACKED: '3' });
    apps.push(small);
    for (const id of ['id-1', 'id-2', 'id-3', 'id-4', 'id-5']) {
      await request(small.app).get(`/runtimes?identifier=${id}`).expect(200);
    }
    const response = await request(small.app).get('/');
    expect(Object.keys(response.body.identifiers.recent).sort()).toEqual(['id-3', 'id-4', 'id-5']);
    expect(response.body.identifiers.evicted).toBe(2);
  });
});
