/**
 * `npm run pool` end to end: the built emulator as a process, each session a real adapter with
 * its own engine. Every test ends with SIGTERM and checks that no session process survives.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ADAPTER_MAIN,
  commandLine,
  engineCommand,
  isAlive,
  type HttpReply,
} from '../support/adapterProcess';
import { holdRequest, send } from '../support/httpClient';
import { startPool, type PoolProcess } from '../support/poolProcess';
import { waitFor } from '../support/waitFor';

let pool: PoolProcess | undefined;

afterEach(async () => {
  await pool?.cleanup();
  pool = undefined;
});

/** SIGTERM: exit 0, every session process gone, the sessions' folder removed. */
async function stopCleanly(running: PoolProcess): Promise<void> {
  const listening = await running.waitForLog((l) => l.msg === 'pool listening');
  expect(await running.stop()).toEqual({ code: 0, signal: null });
  expect(running.sessionPids().length).toBeGreaterThan(0);
  // A process SIGKILLed just before the pool exited may take a moment to be gone.
  await waitFor(() => running.survivors().length === 0, {
    timeoutMs: 5_000,
    what: 'no session process left',
  });
  expect(existsSync(listening.sessionsDir as string)).toBe(false);
}

/** The status, or a failure that shows the body and the pool's log. */
function expectStatus(reply: HttpReply, status: number): void {
  if (reply.status !== status) {
    throw new Error(`expected ${status}, got ${reply.status}: ${reply.text}\n${pool?.describe()}`);
  }
}

function execute(code: string) {
  return { body: { properties: { codeInputType: 'inline', executionType: 'synchronous', code } } };
}

function errorCode(json: unknown): string | undefined {
  return (json as { error?: { code?: string } } | undefined)?.error?.code;
}

function upload(name: string, content: string) {
  const boundary = `pool-test-${process.pid}`;
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body:
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      `Content-Type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`,
  };
}

function fileNames(json: unknown): string[] {
  const value = (json as { value?: Array<{ properties?: { filename?: string } }> }).value ?? [];
  return value.map((file) => file.properties?.filename ?? '?');
}

test('a new identifier takes the ready session, keeps it, and the ready pool refills', async () => {
  pool = startPool({ POOL_MAX_SESSIONS: '3', POOL_READY_SESSIONS: '1' });
  const running = pool;
  const warm = await running.waitForStatus((s) => s.ready === 1, { what: 'one ready session' });
  const readyPid = warm.sessions[0]?.adapterPid;

  const first = await running.request(
    'POST',
    '/code/execute?identifier=alpha-1',
    execute('print(6*7)'),
  );
  expectStatus(first, 200);
  expect(first.json).toMatchObject({ properties: { status: 'Success', stdout: '42\n' } });
  expect(await running.adapterPidOf('alpha-1')).toBe(readyPid);
  expect(running.logs.find((l) => l.msg === 'session allocated')).toMatchObject({
    identifier: 'alpha-1',
    from: 'ready',
  });

  // Refilled in the background, without anyone asking.
  const refilled = await running.waitForStatus((s) => s.ready === 1, { what: 'the refill' });
  expect(refilled.allocated).toBe(1);

  const again = await running.request(
    'POST',
    '/python/execute?identifier=alpha-1',
    execute('print(1)'),
  );
  expectStatus(again, 200);
  expect(await running.adapterPidOf('alpha-1')).toBe(readyPid);
  expect(running.logs.some((l) => l.msg === 'session reused' && l.identifier === 'alpha-1')).toBe(
    true,
  );

  const other = await running.request('GET', '/health?identifier=beta-2');
  expectStatus(other, 200);
  const beta = await running.adapterPidOf('beta-2');
  expect(beta).not.toBeNull();
  expect(beta).not.toBe(readyPid);
  await stopCleanly(running);
});

test('maxSessions: 429, then a slot freed by cooldown or stopSession admits the next; files go with the session', async () => {
  pool = startPool({
    POOL_MAX_SESSIONS: '1',
    POOL_READY_SESSIONS: '0',
    POOL_COOLDOWN_SECONDS: '1.5',
  });
  const running = pool;
  // A request held open keeps alpha-1 busy, so its cooldown cannot run out, however slow the
  // machine, until the test lets it.
  const held = holdRequest(
    await running.port(),
    'POST',
    '/code/execute?identifier=alpha-1',
    JSON.stringify(execute('print(1)').body),
  );
  const busy = await running.waitForStatus(
    (s) => s.sessions[0]?.identifier === 'alpha-1' && s.sessions[0].adapterPid !== null,
    { what: 'alpha-1 started' },
  );
  const firstPid = busy.sessions[0]?.adapterPid;
  if (firstPid == null) throw new Error(running.describe());
  const uploaded = await running.request(
    'POST',
    '/files/upload?identifier=alpha-1',
    upload('notes.txt', 'kept only as long as the session'),
  );
  expectStatus(uploaded, 200);
  const listed = await running.request('GET', '/files?identifier=alpha-1');
  expect(fileNames(listed.json)).toEqual(['notes.txt']);

  const refused = await running.request('POST', '/code/execute?identifier=beta-2', execute('1'));
  expectStatus(refused, 429);
  expect(errorCode(refused.json)).toBe('SessionPoolMaxSessionsReached');
  expect(refused.headers['x-ms-error-code']).toBe('SessionPoolMaxSessionsReached');
  expectStatus(await held.finish(), 200);

  await running.waitForLog(
    (l) => l.msg === 'session expired after its cooldown' && l.identifier === 'alpha-1',
    { what: 'alpha-1 to expire' },
  );
  const admitted = await running.request('GET', '/health?identifier=beta-2');
  expectStatus(admitted, 200);
  await waitFor(() => !isAlive(firstPid), {
    what: 'the expired adapter gone',
  });

  const stopped = await running.request('POST', '/.management/stopSession?identifier=beta-2');
  expectStatus(stopped, 200);
  expect(stopped.text).toBe('Session beta-2 in session pool local-pool stopped.');

  // A stopped identifier starts afresh: another process, and its files are gone.
  const fresh = await running.request('GET', '/files?identifier=alpha-1');
  expectStatus(fresh, 200);
  expect(fileNames(fresh.json)).toEqual([]);
  expect(await running.adapterPidOf('alpha-1')).not.toBe(firstPid);
  await stopCleanly(running);
});

test('50 identifiers at once with maxSessions 5: exactly 5 sessions, the rest 429, no hang', async () => {
  pool = startPool({ POOL_MAX_SESSIONS: '5', POOL_READY_SESSIONS: '0' });
  const running = pool;
  await running.port();
  const replies = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      running.request('POST', `/code/execute?identifier=user-${i}`, execute('print(1)')),
    ),
  );
  const refused = replies.filter((r) => errorCode(r.json) === 'SessionPoolMaxSessionsReached');
  const other = replies.filter((r) => r.status !== 200 && !refused.includes(r));
  expect(other.map((r) => `${r.status} ${r.text}`)).toEqual([]);
  expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
  expect(refused.map((r) => r.status)).toEqual(Array(45).fill(429));
  const status = await running.status();
  expect(status.allocated).toBe(5);
  expect(status.sessions).toHaveLength(5);
  expect(status.counters).toMatchObject({ allocations: 5, rejections: 45, startFailures: 0 });
  await stopCleanly(running);
});

test('a session whose engine dies recovers in place; one whose adapter dies is replaced', async () => {
  pool = startPool({ POOL_MAX_SESSIONS: '1', POOL_READY_SESSIONS: '0' });
  const running = pool;
  expectStatus(await running.request('GET', '/health?identifier=alpha-1'), 200);
  const before = (await running.status()).sessions[0];
  const enginePid = before?.enginePids[0];
  if (before?.adapterPid == null || enginePid === undefined) throw new Error(running.describe());

  // The engine dies: the session's own supervisor restarts it; the pool keeps the session.
  process.kill(enginePid, 'SIGKILL');
  await running.waitForStatus((s) => (s.sessions[0]?.enginePids.length ?? 0) > 1, {
    what: 'a relaunched engine',
  });
  await waitFor(
    async () => (await running.request('GET', '/health?identifier=alpha-1')).status === 200,
    { timeoutMs: 15_000, intervalMs: 100, what: 'the session healthy again' },
  );
  expect(await running.adapterPidOf('alpha-1')).toBe(before.adapterPid);
  expect((await running.status()).counters.unexpectedExits).toBe(0);

  // The whole session dies (as a container would): the slot is freed, the identifier starts afresh.
  const engines = (await running.status()).sessions[0]?.enginePids ?? [];
  process.kill(before.adapterPid, 'SIGKILL');
  await running.waitForLog((l) => String(l.msg).startsWith('session exited unexpectedly'), {
    what: 'the exit noticed',
  });
  for (const pid of engines) await waitFor(() => !isAlive(pid), { what: `engine ${pid} gone` });
  const replaced = await running.request('GET', '/health?identifier=alpha-1');
  expectStatus(replaced, 200);
  expect(await running.adapterPidOf('alpha-1')).not.toBe(before.adapterPid);
  await stopCleanly(running);
});

test("a session that cannot start: 503 with the engine's reason, and its slot freed", async () => {
  pool = startPool({
    POOL_MAX_SESSIONS: '1',
    POOL_READY_SESSIONS: '0',
    ENGINE_COMMAND: engineCommand('exitsAtOnce.mjs'),
  });
  const running = pool;
  const reply = await running.request('POST', '/code/execute?identifier=alpha-1', execute('1'));
  expectStatus(reply, 503);
  expect(errorCode(reply.json)).toBe('SessionStartFailed');
  const message = JSON.stringify(reply.json);
  expect(message).toContain('its engine exited 3 times while starting');
  expect(message).toContain('Combined cgroup v1+v2 mode is not supported');
  const status = await running.status();
  expect(status).toMatchObject({ allocated: 0, sessions: [], counters: { startFailures: 1 } });
  // The slot is free: the next identifier is tried (and fails the same way), not refused.
  const next = await running.request('GET', '/health?identifier=beta-2');
  expect(errorCode(next.json)).toBe('SessionStartFailed');
  await stopCleanly(running);
});

test('an engine that exits once while starting (a port lost, say) does not fail the session', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'psa-pool-'));
  try {
    pool = startPool({
      POOL_MAX_SESSIONS: '1',
      POOL_READY_SESSIONS: '0',
      ENGINE_COMMAND: engineCommand('failsFirstLaunch.mjs'),
      FAKE_ENGINE_MARKER: path.join(dir, 'launched'),
    });
    const running = pool;
    const reply = await running.request(
      'POST',
      '/python/execute?identifier=alpha-1',
      execute('print(2+3)'),
    );
    expectStatus(reply, 200);
    expect(reply.json).toMatchObject({ properties: { stdout: '5\n' } });
    const status = await running.status();
    expect(status.sessions[0]?.enginePids).toHaveLength(2);
    expect(status.counters.startFailures).toBe(0);
    await stopCleanly(running);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('POOL_SESSION_COMMAND: each session runs the command on the port filled in, and stops with the pool', async () => {
  // The local adapter stands in for `podman run ... -p 127.0.0.1:{port}:2000 IMAGE`: the same
  // template, without an image to run (CI has none).
  const command = `env PORT={port} PSA_SESSION={id} ${commandLine(process.execPath, ADAPTER_MAIN)}`;
  pool = startPool({ POOL_SESSION_COMMAND: command, POOL_READY_SESSIONS: '1' });
  const running = pool;
  const listening = await running.waitForLog((l) => l.msg === 'pool listening');
  expect(listening.sessionCommand).toBe(command);
  const reply = await running.request(
    'POST',
    '/code/execute?identifier=cmd-1',
    execute('print(5)'),
  );
  expectStatus(reply, 200);
  expect(reply.json).toMatchObject({ properties: { status: 'Success', stdout: '5\n' } });
  const status = await running.status();
  const session = status.sessions.find((s) => s.identifier === 'cmd-1');
  expect(session).toBeDefined();
  // Engines of a command's session are not the pool's to report or kill.
  expect(session?.enginePids).toEqual([]);
  // The command listens where {port} said: the adapter answers there directly.
  const port = (session as unknown as { port: number }).port;
  const health = await send(port, 'GET', '/health', { timeoutMs: 5_000 });
  expect(health.status).toBe(200);
  await stopCleanly(running);
});
