/**
 * The admission gate through the real app: at most MAX_IN_FLIGHT executions reach the engine,
 * QUEUE_MAX wait, the rest get 429; a wait past QUEUE_WAIT_MS gets 503; every way an
 * execution ends gives its slot back; GET / shows the numbers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadFixture } from '../support/fixtures';
import { startFakeEngine, type FakeEngine, type FakeReply } from '../support/fakeEngine';
import { buildTestApp, type TestApp } from '../support/testApp';
import { waitFor } from '../support/waitFor';

interface Reply {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string; source: string } } & Record<string, unknown>;
}

interface Running {
  adapter: TestApp;
  url: string;
}

let engine: FakeEngine;
const servers: http.Server[] = [];
const apps: TestApp[] = [];
/** Holds every engine reply until released; released in afterEach so nothing hangs. */
let hold: { promise: Promise<void>; release: () => void };

function deferred(): { promise: Promise<void>; release: () => void } {
  let release = () => undefined as void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

const HELLO = loadFixture('python_hello').body;

beforeEach(async () => {
  engine = await startFakeEngine();
  hold = deferred();
});
afterEach(async () => {
  hold.release();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await engine.close();
});

/** The app on a real port, so clients can disconnect mid-request. */
async function start(env: Record<string, string>): Promise<Running> {
  const adapter = buildTestApp(engine.url, env);
  apps.push(adapter);
  const server = http.createServer(adapter.app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { adapter, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function holdReplies(reply: Partial<FakeReply> = {}): void {
  engine.executeReplies = [{ status: 200, body: HELLO, delay: hold.promise, ...reply }];
}

async function send(
  url: string,
  path: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal !== undefined && { signal }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Reply['body'],
  };
}

function execute(running: Running, signal?: AbortSignal): Promise<Reply> {
  return send(running.url, '/python/execute', { properties: { code: 'print(1)' } }, signal);
}

async function gateOf(running: Running): Promise<Record<string, number>> {
  const response = await fetch(`${running.url}/`);
  const status = (await response.json()) as { gate: Record<string, number> };
  return status.gate;
}

function executesAtEngine(): number {
  return engine.received.filter((r) => r.path.startsWith('/api/v2/execute')).length;
}

async function gateIdle(running: Running): Promise<void> {
  let last: Record<string, number> = {};
  await waitFor(
    async () => {
      last = await gateOf(running);
      return last.inFlight === 0 && last.queued === 0;
    },
    { what: `the gate to return to zero (last: ${JSON.stringify(last)})` },
  );
}

describe('admission gate', () => {
  test('defaults: the engine job slots, a queue as long, a 10 s wait', async () => {
    const running = await start({ MAX_CONCURRENT_JOBS: '7' });
    expect(await gateOf(running)).toMatchObject({
      maxInFlight: 7,
      queueMax: 7,
      queueWaitMs: 10_000,
      inFlight: 0,
      queued: 0,
    });
  });

  test('past the queue: 429 queue_full at once with Retry-After; GET / counts it', async () => {
    const running = await start({ MAX_IN_FLIGHT: '2', QUEUE_MAX: '1' });
    holdReplies();
    const admitted = [execute(running), execute(running), execute(running)];
    await waitFor(() => executesAtEngine() === 2, { what: 'two executions at the engine' });
    await waitFor(async () => (await gateOf(running)).queued === 1, { what: 'one queued' });

    const refused = await execute(running);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'queue_full', source: 'adapter' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await gateOf(running)).toMatchObject({
      inFlight: 2,
      queued: 1,
      rejectedQueueFull: 1,
      peakInFlight: 2,
      peakQueued: 1,
    });

    hold.release();
    for (const reply of await Promise.all(admitted)) expect(reply.status).toBe(200);
    expect(executesAtEngine()).toBe(3);
    expect(await gateOf(running)).toMatchObject({ inFlight: 0, queued: 0, admitted: 3 });
  });

  test('a queued request that waits past QUEUE_WAIT_MS gets 503 queue_timeout', async () => {
    const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_WAIT_MS: '100' });
    holdReplies();
    const first = execute(running);
    await waitFor(() => executesAtEngine() === 1);

    const waited = await execute(running);
    expect(waited.status).toBe(503);
    expect(waited.body.error).toMatchObject({ code: 'queue_timeout', source: 'adapter' });
    expect(Number(waited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(executesAtEngine()).toBe(1);
    expect(await gateOf(running)).toMatchObject({ inFlight: 1, queued: 0, expiredInQueue: 1 });

    hold.release();
    expect((await first).status).toBe(200);
    await gateIdle(running);
  });

  test("the runner warm-up (shared) never takes a caller's slot nor counts as a refusal", async () => {
    const running = await start({
      ENGINE_FILESYSTEM: 'shared',
      PYTHON_RESULT: 'true',
      MAX_IN_FLIGHT: '1',
      QUEUE_MAX: '0',
    });
    // The first Python execution gets the only slot; the warm-up it starts comes after.
    const first = await execute(running);
    expect(first.status).toBe(200);
    // The fake engine runs nothing, so the warm-up finds nothing to adopt: it went to the
    // engine after the caller's job, in a slot of its own, and gave the slot back.
    await waitFor(() => executesAtEngine() === 2, { what: 'the warm-up to reach the engine' });
    const warmUp = engine.received.filter((r) => r.path.startsWith('/api/v2/execute'))[1];
    expect(JSON.stringify(warmUp?.body)).toContain('_piston_session_warm');
    await gateIdle(running);
    expect(await gateOf(running)).toMatchObject({ rejectedQueueFull: 0, expiredInQueue: 0 });
    // The next caller finds the slot free again.
    expect((await execute(running)).status).toBe(200);
  });

  describe('the slot comes back on every path', () => {
    const failures: [string, (running: Running) => Partial<FakeReply> | void, number][] = [
      ['engine error (500)', () => ({ status: 500, body: '', raw: true }), 502],
      ['engine answer not JSON', () => ({ status: 200, body: '<html>', raw: true }), 502],
      ['engine slower than its deadline', () => ({ delay: new Promise(() => undefined) }), 504],
    ];

    test.each(failures)('%s', async (_name, reply, status) => {
      const running = await start({
        MAX_IN_FLIGHT: '1',
        QUEUE_MAX: '0',
        ENGINE_DEADLINE_MARGIN_MS: '50',
      });
      engine.executeReplies = [{ status: 200, body: HELLO, ...reply(running) }];
      const failed = await send(running.url, '/python/execute', {
        properties: { code: '1', timeoutInSeconds: 0.05 },
      });
      expect(failed.status).toBe(status);
      await gateIdle(running);
      engine.executeReplies = [{ status: 200, body: HELLO }];
      expect((await execute(running)).status).toBe(200);
    });

    test('engine drops the connection (a crash)', async () => {
      const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_MAX: '0' });
      holdReplies();
      const pending = execute(running);
      await waitFor(() => executesAtEngine() === 1);
      engine.dropConnections();
      expect((await pending).status).toBe(502);
      await gateIdle(running);
    });

    test('engine declared lost by the supervisor: in flight 502, queued 503', async () => {
      const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_MAX: '1' });
      holdReplies();
      const atEngine = execute(running);
      await waitFor(() => executesAtEngine() === 1);
      const queued = execute(running);
      await waitFor(async () => (await gateOf(running)).queued === 1);

      running.adapter.engineState.update({ state: 'restarting', reason: 'engine was killed' });
      const [lost, turnedAway] = await Promise.all([atEngine, queued]);
      expect(lost.status).toBe(502);
      expect(turnedAway.status).toBe(503);
      expect(turnedAway.body.error?.code).toBe('engine_not_ready');
      expect(executesAtEngine()).toBe(1);
      await gateIdle(running);
    });

    test('client disconnects while its execution is at the engine: the slot is held until the engine answers', async () => {
      const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_MAX: '0' });
      holdReplies();
      const gone = new AbortController();
      const pending = execute(running, gone.signal).catch((error: Error) => error.name);
      await waitFor(() => executesAtEngine() === 1);
      gone.abort();
      expect(await pending).toBe('AbortError');
      // Piston runs a job whose client left to its end (contract section 5): the slot stays
      // taken, and a new execution is refused rather than put beside it on the engine.
      expect((await gateOf(running)).inFlight).toBe(1);
      const refused = await execute(running);
      expect(refused.status).toBe(429);
      expect(executesAtEngine()).toBe(1);
      // The adapter kept its engine connection: the engine answers it, and the slot comes back.
      hold.release();
      await gateIdle(running);
      expect(engine.abandoned).toBe(0);
    });

    test('client disconnects while queued: leaves the queue, never reaches the engine', async () => {
      const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_MAX: '1' });
      holdReplies();
      const first = execute(running);
      await waitFor(() => executesAtEngine() === 1);
      const gone = new AbortController();
      const pending = execute(running, gone.signal).catch((error: Error) => error.name);
      await waitFor(async () => (await gateOf(running)).queued === 1);
      gone.abort();
      expect(await pending).toBe('AbortError');
      await waitFor(async () => (await gateOf(running)).abandonedInQueue === 1);
      expect(await gateOf(running)).toMatchObject({ inFlight: 1, queued: 0 });

      hold.release();
      expect((await first).status).toBe(200);
      await gateIdle(running);
      expect(executesAtEngine()).toBe(1);
    });
  });

  describe('/api/v2 passthrough', () => {
    const pistonBody = { language: 'python', version: '*', files: [{ content: 'print(1)' }] };

    test('POST /api/v2/execute takes a slot like any execution; other paths do not', async () => {
      const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_MAX: '0' });
      holdReplies();
      const held = execute(running);
      await waitFor(() => executesAtEngine() === 1);

      const refused = await send(running.url, '/api/v2/execute', pistonBody);
      expect(refused.status).toBe(429);
      expect(refused.body.error?.code).toBe('queue_full');
      expect((await fetch(`${running.url}/api/v2/runtimes`)).status).toBe(200);

      hold.release();
      expect((await held).status).toBe(200);
      const passed = await send(running.url, '/api/v2/execute', pistonBody);
      expect(passed.status).toBe(200);
      expect(passed.body).toEqual(HELLO);
      await gateIdle(running);
    });

    test('a passthrough client that disconnects gives its slot back once the engine has answered', async () => {
      const running = await start({ MAX_IN_FLIGHT: '1', QUEUE_MAX: '1' });
      holdReplies();
      const gone = new AbortController();
      const pending = send(running.url, '/api/v2/execute', pistonBody, gone.signal).catch(
        (error: Error) => error.name,
      );
      await waitFor(() => executesAtEngine() === 1);
      const queuedGone = new AbortController();
      const queued = send(running.url, '/api/v2/execute', pistonBody, queuedGone.signal).catch(
        (error: Error) => error.name,
      );
      await waitFor(async () => (await gateOf(running)).queued === 1);
      queuedGone.abort();
      gone.abort();
      expect(await pending).toBe('AbortError');
      expect(await queued).toBe('AbortError');
      // The queued one left the queue; the one at the engine keeps its slot while the engine
      // still runs its job (Piston would, contract section 5).
      await waitFor(async () => (await gateOf(running)).queued === 0);
      expect((await gateOf(running)).inFlight).toBe(1);
      hold.release();
      await gateIdle(running);
      expect(executesAtEngine()).toBe(1);
    });
  });
});
