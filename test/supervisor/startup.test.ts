/**
 * The built adapter as a real process, launching stand-in engines: ingress stays closed until
 * the engine answers, and an engine that fails to start leaves the reason visible.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { findFreePort } from '../../adapter/supervisor/freePort';
import {
  connectionError,
  engineCommand,
  startAdapter,
  waitUntilGone,
  type AdapterProcess,
} from '../support/adapterProcess';

interface ErrorBody {
  error: { code: string; message: string };
}

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

test('keeps ingress closed until the engine answers, then runs code', async () => {
  const port = await findFreePort();
  adapter = startAdapter((dir) => ({
    PORT: String(port),
    ENGINE_COMMAND: engineCommand('fakePiston.mjs'),
    FAKE_ENGINE_GATE_FILE: path.join(dir, 'gate'),
    ENGINE_WARMUP_LANGUAGES: 'python',
    MAX_TIMEOUT_SECONDS: '30',
    DEFAULT_TIMEOUT_SECONDS: '20',
    OUTPUT_MAX_BYTES: '4096',
    MAX_CONCURRENT_JOBS: '7',
  }));
  const running = adapter;

  // The engine runs, but does not answer until the gate file exists.
  await running.waitForLog((line) => String(line.msg).startsWith('fake-piston: waiting for'));
  expect(await connectionError(port)).toBe('ECONNREFUSED');
  expect(running.logs.some((line) => line.msg === 'ingress open')).toBe(false);

  writeFileSync(path.join(running.tempDir, 'gate'), '');
  expect(await running.ingressPort()).toBe(port);

  // The engine got our limits, and was warmed up before ingress opened.
  const limits = running.logs.find((line) => String(line.msg).startsWith('fake-piston: limits'));
  expect(limits?.msg).toBe(
    'fake-piston: limits run_timeout=30000 output_max_size=4096 max_concurrent_jobs=7',
  );
  expect(limits).toMatchObject({ source: 'engine', stream: 'stdout' });
  const order = running.logs.map((line) => line.msg);
  expect(order.indexOf('engine warm-up')).toBeGreaterThan(-1);
  expect(order.indexOf('engine warm-up')).toBeLessThan(order.indexOf('ingress open'));
  expect(running.logs.find((line) => line.msg === 'ingress open')).toMatchObject({
    engineState: 'ready',
    engineStartupMs: expect.any(Number),
  });

  const reply = await running.execute('print(1+1)');
  expect(reply.status).toBe(200);
  expect(reply.json).toMatchObject({ properties: { stdout: '2\n' } });
  expect((await running.request('GET', '/health')).status).toBe(200);
});

test('an engine that exits at once: degraded at once, with its stderr as the reason', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('exitsAtOnce.mjs'),
    // Far beyond the test's own wait: the exit must not be waited out.
    ENGINE_START_TIMEOUT_MS: '60000',
  });
  await adapter.ingressPort();
  expect(adapter.logs.find((line) => line.msg === 'ingress open')).toMatchObject({
    engineState: 'degraded',
  });

  const health = await adapter.request('GET', '/health');
  expect(health.status).toBe(503);
  const healthError = (health.json as ErrorBody).error;
  expect(healthError.code).toEqual(expect.any(String));
  expect(healthError.message).toContain('exited with code 1');
  expect(healthError.message).toContain('Combined cgroup v1+v2 mode is not supported');

  const execute = await adapter.execute('print(1+1)');
  expect(execute.status).toBe(503);
  expect(execute.headers['retry-after']).toBeDefined();
  expect((execute.json as ErrorBody).error.message).toContain(
    'Combined cgroup v1+v2 mode is not supported',
  );

  const status = await adapter.request('GET', '/');
  expect(status.json).toMatchObject({
    engine: {
      state: 'degraded',
      lastExit: {
        code: 1,
        stderrTail: expect.arrayContaining(['Combined cgroup v1+v2 mode is not supported']),
      },
    },
  });
});

test('an engine that exits at once, with ENGINE_EXIT_ON_START_FAILURE: exits non-zero', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('exitsAtOnce.mjs'),
    ENGINE_START_TIMEOUT_MS: '60000',
    ENGINE_EXIT_ON_START_FAILURE: 'true',
  });
  const exit = await adapter.waitForExit();
  expect(exit.code).not.toBe(0);
  expect(exit.code).not.toBeNull();
  const fatal = adapter.logs.find((line) => line.level === 60);
  expect(String(fatal?.reason)).toContain('Combined cgroup v1+v2 mode is not supported');
  expect(adapter.logs.some((line) => line.msg === 'ingress open')).toBe(false);
});

test('an engine that never answers: degraded after the deadline, reason visible', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('neverAnswers.mjs'),
    ENGINE_START_TIMEOUT_MS: '800',
  });
  await adapter.ingressPort();

  const health = await adapter.request('GET', '/health');
  expect(health.status).toBe(503);
  const message = (health.json as ErrorBody).error.message;
  expect(message).toContain('did not answer GET /api/v2/runtimes within 800 ms');
  expect(message).toContain('waiting for a lock that never comes');

  const execute = await adapter.execute('print(1+1)');
  expect(execute.status).toBe(503);
  expect(execute.headers['retry-after']).toBeDefined();
  expect((execute.json as ErrorBody).error.message).toContain('did not answer');
});

test('an engine that never answers, with ENGINE_EXIT_ON_START_FAILURE: exits non-zero and stops it', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('neverAnswers.mjs'),
    ENGINE_START_TIMEOUT_MS: '800',
    ENGINE_EXIT_ON_START_FAILURE: 'true',
  });
  const exit = await adapter.waitForExit();
  expect(exit.code).not.toBe(0);
  expect(exit.code).not.toBeNull();
  const [enginePid] = adapter.enginePids();
  expect(enginePid).toEqual(expect.any(Number));
  await waitUntilGone(enginePid as number);
});

test('a bad variable: its name on stderr, exit 2', async () => {
  adapter = startAdapter({ PORT: 'not-a-port' });
  const exit = await adapter.waitForExit();
  expect(exit.code).toBe(2);
  expect(adapter.stderr).toContain('PORT');
});

test('an engine command that cannot be run: degraded, saying so', async () => {
  adapter = startAdapter({ ENGINE_COMMAND: '/nonexistent/piston-engine --serve' });
  await adapter.ingressPort();
  const health = await adapter.request('GET', '/health');
  expect(health.status).toBe(503);
  expect((health.json as ErrorBody).error.message).toContain('could not be started');
  expect((health.json as ErrorBody).error.message).toContain('ENOENT');
});
