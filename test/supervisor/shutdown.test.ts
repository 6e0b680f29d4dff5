/**
 * SIGTERM: ingress stops accepting, requests in flight finish, the engine and its job
 * processes are stopped, and the adapter exits 0.
 */
import {
  connectionError,
  engineCommand,
  isAlive,
  startAdapter,
  waitUntilGone,
  type AdapterProcess,
} from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

/** The pid of the job-like child the stand-in engine starts with FAKE_ENGINE_HELPER=1. */
async function helperPid(running: AdapterProcess): Promise<number> {
  const line = await running.waitForLog((l) => String(l.msg).startsWith('fake-piston: helper pid'));
  return Number(String(line.msg).split(' ').pop());
}

test('requests in flight complete, then engine and jobs are stopped and it exits 0', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('fakePiston.mjs'),
    FAKE_ENGINE_HELPER: '1',
    SHUTDOWN_GRACE_MS: '10000',
  });
  const running = adapter;
  const port = await running.ingressPort();
  const [enginePid] = running.enginePids();
  const helper = await helperPid(running);
  expect(isAlive(helper)).toBe(true);

  const requests = [1, 2, 3].map(() =>
    running.execute('import time; time.sleep(1)\nprint(6*7)', { timeoutMs: 10_000 }),
  );
  await waitFor(
    () => running.logs.filter((l) => l.msg === 'fake-piston: execute delay=1000').length === 3,
    { what: `three executions under way\n${running.describe()}` },
  );
  running.child.kill('SIGTERM');
  await running.waitForMessage('shutdown started');
  expect(await connectionError(port)).toBe('ECONNREFUSED');

  const replies = await Promise.all(requests);
  for (const reply of replies) {
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ properties: { stdout: '42\n' } });
  }
  expect(await running.waitForExit()).toEqual({ code: 0, signal: null });
  await waitUntilGone(enginePid as number);
  await waitUntilGone(helper);
});

test('an engine that ignores SIGTERM is killed after ENGINE_STOP_TIMEOUT_MS', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('fakePiston.mjs'),
    FAKE_ENGINE_IGNORE_SIGTERM: '1',
    FAKE_ENGINE_HELPER: '1',
    ENGINE_STOP_TIMEOUT_MS: '300',
  });
  const running = adapter;
  await running.ingressPort();
  const [enginePid] = running.enginePids();
  const helper = await helperPid(running);

  running.child.kill('SIGTERM');
  expect(await running.waitForExit()).toEqual({ code: 0, signal: null });
  expect(running.logs.some((l) => l.msg === 'engine ignored SIGTERM; sending SIGKILL')).toBe(true);
  await waitUntilGone(enginePid as number);
  await waitUntilGone(helper);
});

test('a request still running when the grace period ends is cut off; exit 0 regardless', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('fakePiston.mjs'),
    SHUTDOWN_GRACE_MS: '300',
  });
  const running = adapter;
  await running.ingressPort();
  const [enginePid] = running.enginePids();
  const slow = running.execute('import time; time.sleep(30)', { timeoutMs: 10_000 }).then(
    (reply) => `status ${reply.status}`,
    (error: Error) => error.message,
  );
  await running.waitForLog((l) => l.msg === 'fake-piston: execute delay=30000');

  running.child.kill('SIGTERM');
  expect(await running.waitForExit()).toEqual({ code: 0, signal: null });
  expect(await slow).not.toBe('status 200');
  expect(
    running.logs.some((l) => l.msg === 'grace period over; closing remaining connections'),
  ).toBe(true);
  await waitUntilGone(enginePid as number);
});

test('SIGTERM before the engine answers: stops it and exits 0', async () => {
  adapter = startAdapter({
    ENGINE_COMMAND: engineCommand('neverAnswers.mjs'),
    ENGINE_START_TIMEOUT_MS: '60000',
  });
  const running = adapter;
  await running.waitForMessage('engine launched');
  const [enginePid] = running.enginePids();
  running.child.kill('SIGTERM');
  expect(await running.waitForExit()).toEqual({ code: 0, signal: null });
  expect(running.logs.some((l) => l.msg === 'ingress open')).toBe(false);
  await waitUntilGone(enginePid as number);
});
