/**
 * Attach mode (ENGINE_URL, no ENGINE_COMMAND): nothing is launched; periodic checks move the
 * engine between ready and degraded with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findFreePort } from '../../adapter/supervisor/freePort';
import {
  ENGINES_DIR,
  isAlive,
  startAdapter,
  waitUntilGone,
  type AdapterProcess,
} from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';

interface ErrorBody {
  error: { code: string; message: string };
}

let adapter: AdapterProcess | undefined;
const engines: ChildProcess[] = [];

/** A stand-in engine the test runs itself, as someone else's Piston would be. */
async function runEngine(port: number): Promise<ChildProcess> {
  const engine = spawn(process.execPath, [path.join(ENGINES_DIR, 'fakePiston.mjs')], {
    env: { ...process.env, PISTON_BIND_ADDRESS: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  engines.push(engine);
  let output = '';
  engine.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  await waitFor(() => output.includes('listening on'), { what: 'the engine to listen' });
  return engine;
}

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
  for (const engine of engines.splice(0)) {
    engine.kill('SIGKILL');
    if (engine.pid !== undefined) await waitUntilGone(engine.pid);
  }
});

test('follows an engine it does not own between ready and degraded', async () => {
  const enginePort = await findFreePort();
  const first = await runEngine(enginePort);
  adapter = startAdapter({
    ENGINE_URL: `http://127.0.0.1:${enginePort}`,
    ENGINE_HEALTH_INTERVAL_MS: '100',
  });
  const running = adapter;
  await running.ingressPort();
  expect(running.enginePids()).toEqual([]);
  expect((await running.execute('print(1+1)')).json).toMatchObject({
    properties: { stdout: '2\n' },
  });

  first.kill('SIGKILL');
  await running.waitForLog((l) => l.msg === 'engine state' && l.state === 'degraded');
  const health = await running.request('GET', '/health');
  expect(health.status).toBe(503);
  expect((health.json as ErrorBody).error.message).toContain('stopped answering');
  const execute = await running.execute('print(1+1)');
  expect(execute.status).toBe(503);
  expect(execute.headers['retry-after']).toBeDefined();

  const second = await runEngine(enginePort);
  await running.waitForLog(
    (l) => l.msg === 'engine state' && l.state === 'ready' && l.generation === 2,
  );
  expect((await running.execute('print(2*3)')).json).toMatchObject({
    properties: { stdout: '6\n' },
  });

  // Shutting down leaves someone else's engine alone.
  running.child.kill('SIGTERM');
  expect(await running.waitForExit()).toEqual({ code: 0, signal: null });
  expect(isAlive(second.pid as number)).toBe(true);
});

test('an engine that is not there by the deadline: degraded, then ready when it comes', async () => {
  const enginePort = await findFreePort();
  adapter = startAdapter({
    ENGINE_URL: `http://127.0.0.1:${enginePort}`,
    ENGINE_START_TIMEOUT_MS: '300',
    ENGINE_HEALTH_INTERVAL_MS: '100',
  });
  const running = adapter;
  await running.ingressPort();
  const health = await running.request('GET', '/health');
  expect(health.status).toBe(503);
  const message = (health.json as ErrorBody).error.message;
  expect(message).toContain('did not answer GET /api/v2/runtimes within 300 ms');
  expect(message).toContain('ECONNREFUSED');

  await runEngine(enginePort);
  await running.waitForLog((l) => l.msg === 'engine state' && l.state === 'ready');
  expect((await running.request('GET', '/health')).status).toBe(200);
});
