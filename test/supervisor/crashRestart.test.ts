/**
 * The engine dies under load: the request it held fails fast with 502, later ones get 503 with
 * Retry-After while it restarts, and after the restart requests succeed again.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { engineCommand, startAdapter, type AdapterProcess } from '../support/adapterProcess';

interface ErrorBody {
  error: { code: string; message: string };
}

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

test('SIGKILL mid-request: 502 at once, 503 with Retry-After while restarting, then 200', async () => {
  adapter = startAdapter((dir) => {
    const gate = path.join(dir, 'gate');
    writeFileSync(gate, '');
    return { ENGINE_COMMAND: engineCommand('fakePiston.mjs'), FAKE_ENGINE_GATE_FILE: gate };
  });
  const running = adapter;
  const gate = path.join(running.tempDir, 'gate');
  await running.ingressPort();
  const [enginePid] = running.enginePids();
  if (enginePid === undefined) throw new Error(`no engine pid logged\n${running.describe()}`);

  const slow = running.execute('import time; time.sleep(5)', { timeoutMs: 10_000 });
  await running.waitForLog((line) => line.msg === 'fake-piston: execute delay=5000');
  // The relaunched engine stays unanswering until the gate is back, so the restart window is
  // the test's to close, not a race.
  rmSync(gate);
  const killedAt = Date.now();
  process.kill(enginePid, 'SIGKILL');

  const failed = await slow;
  expect(failed.status).toBe(502);
  expect(Date.now() - killedAt).toBeLessThan(2_000);

  await running.waitForLog(
    (line) => line.msg === 'engine launched' && line.enginePid !== enginePid,
  );
  const during = await running.execute('print(1+1)');
  expect(during.status).toBe(503);
  expect(during.headers['retry-after']).toBeDefined();
  expect((during.json as ErrorBody).error.message).toContain('SIGKILL');

  const status = await running.request('GET', '/');
  expect(status.json).toMatchObject({
    engine: { state: 'restarting', restarts: 1, lastExit: { signal: 'SIGKILL' } },
  });
  const health = await running.request('GET', '/health');
  expect(health.status).toBe(503);
  expect((health.json as ErrorBody).error.message).toContain('engine was killed by SIGKILL');

  writeFileSync(gate, '');
  await running.waitForLog(
    (line) => line.msg === 'engine state' && line.state === 'ready' && line.generation === 2,
  );
  const after = await running.execute('print(6*7)');
  expect(after.status).toBe(200);
  expect(after.json).toMatchObject({ properties: { stdout: '42\n' } });
  expect((await running.request('GET', '/')).json).toMatchObject({
    engine: { state: 'ready', restarts: 1 },
  });
});
