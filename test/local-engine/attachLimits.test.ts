/**
 * The adapter attached to an engine started with Piston's default limits, as users who run
 * Piston in a container of its own and point ENGINE_URL at it do: the local engine with
 * LOCAL_ENGINE_PISTON_DEFAULTS=true refuses a run timeout above 3000 ms, as the real one does
 * (python_run_timeout_60000_default_config), and the adapter must still serve every default
 * request, within the engine's limit, saying so.
 */
import request from 'supertest';
import { LocalEngine, PROCESS_DEADLINE_MS } from '../support/localEngine';
import { installedVersions } from '../support/localEngineConformance';
import { buildTestApp, type TestApp } from '../support/testApp';

jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const withPython = installedVersions().get('python') === null ? test.skip : test;

let engine: LocalEngine;
let url: string;

beforeAll(async () => {
  // The limit settings are ignored with the flag: the engine keeps Piston's 3000 ms.
  engine = new LocalEngine({ LOCAL_ENGINE_PISTON_DEFAULTS: 'true', PISTON_RUN_TIMEOUT: '60000' });
  url = `http://127.0.0.1:${await engine.port()}`;
});
afterAll(async () => {
  await engine?.stop();
});

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});
const attach = (env: Record<string, string> = {}) => {
  const app = buildTestApp(url, env);
  apps.push(app);
  return app;
};

test('the engine has Piston default limits whatever it is handed', async () => {
  const reply = await engine.execute({
    language: 'bash',
    version: '*',
    files: [{ content: 'echo 1' }],
    run_timeout: 60000,
  });
  expect(reply.status).toBe(400);
  expect(reply.json).toEqual({ message: 'run_timeout cannot exceed the configured limit of 3000' });
});

withPython(
  'a default request succeeds, clamped to the limit the engine named, and the limit is kept',
  async () => {
    const adapter = attach();
    const first = await request(adapter.app)
      .post('/python/execute')
      .send({ properties: { code: 'print(1)' } });
    expect(first.status).toBe(200);
    expect(first.body.properties).toMatchObject({
      status: 'Success',
      stdout: '1\n',
      timeoutClamp: { requestedSeconds: 60, appliedSeconds: 3, by: 'engine', defaulted: true },
    });
    expect(first.body.properties.timeoutClamp.reason).toContain('3000 ms (learned)');

    const status = await request(adapter.app).get('/');
    expect(status.body.engineLimits.runTimeoutMs).toEqual({ value: 3000, source: 'learned' });
    const metadata = await request(adapter.app).get('/metadata');
    expect(metadata.body.engineLimits.runTimeoutMs).toEqual({ value: 3000, source: 'learned' });

    // Asked for less than the limit: nothing to clamp, nothing said.
    const short = await request(adapter.app)
      .post('/python/execute')
      .send({ properties: { code: 'print(2)', timeoutInSeconds: 2 } });
    expect(short.status).toBe(200);
    expect(short.body.properties.stdout).toBe('2\n');
    expect(short.body.properties).not.toHaveProperty('timeoutClamp');
  },
);

withPython('a configured limit is used from the first request', async () => {
  const adapter = attach({ ENGINE_RUN_TIMEOUT_MAX_MS: '2500' });
  const reply = await request(adapter.app)
    .post('/python/execute')
    .send({ properties: { code: 'print(3)', timeoutInSeconds: 100 } });
  expect(reply.status).toBe(200);
  expect(reply.body.properties.timeoutClamp).toMatchObject({
    requestedSeconds: 100,
    appliedSeconds: 2.5,
    by: 'engine',
  });
  expect(reply.body.properties.timeoutClamp.reason).toContain('(configured)');
  const metadata = await request(adapter.app).get('/metadata');
  expect(metadata.body.engineLimits.runTimeoutMs).toEqual({ value: 2500, source: 'configured' });
});

withPython('a limit configured too high is corrected by the engine, once', async () => {
  const adapter = attach({ ENGINE_RUN_TIMEOUT_MAX_MS: '10000' });
  const reply = await request(adapter.app)
    .post('/python/execute')
    .send({ properties: { code: 'print(4)' } });
  expect(reply.status).toBe(200);
  expect(reply.body.properties.timeoutClamp).toMatchObject({ appliedSeconds: 3 });
  expect((await request(adapter.app).get('/')).body.engineLimits.runTimeoutMs.source).toBe(
    'learned',
  );
});
