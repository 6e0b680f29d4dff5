/**
 * The allocator's rules with fake sessions (no processes): reuse, the ready pool, the cap,
 * cooldown, stopping, failures, and many identifiers at once in every order.
 */
import { PoolError } from '../../scripts/pool/poolErrors';
import { SessionPool, type Lease } from '../../scripts/pool/sessionPool';
import { FakeLauncher, memoryLogger, settle } from '../support/fakeSessions';

interface Setup {
  maxSessions?: number;
  readySessions?: number;
  cooldownMs?: number;
  auto?: boolean;
}

function makePool({ maxSessions = 5, readySessions = 0, cooldownMs = 60_000, auto = true }: Setup) {
  const launcher = new FakeLauncher({ auto });
  const { logger, lines } = memoryLogger();
  const pool = new SessionPool({
    maxSessions,
    readySessions,
    cooldownMs,
    launch: launcher.launch,
    logger,
  });
  pools.push(pool);
  return { pool, launcher, lines };
}

const pools: SessionPool[] = [];

afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(pools.splice(0).map((pool) => pool.shutdown()));
});

async function rejection(promise: Promise<unknown>): Promise<PoolError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (reason: unknown) => reason,
  );
  if (!(error instanceof PoolError)) throw error;
  return error;
}

test('an identifier keeps its session; another identifier gets another one', async () => {
  const { pool, launcher, lines } = makePool({});
  const first = await pool.acquire('user-1');
  first.release();
  const again = await pool.acquire('user-1');
  const other = await pool.acquire('user-2');
  expect(again.sessionId).toBe(first.sessionId);
  expect(other.sessionId).not.toBe(first.sessionId);
  expect(launcher.launches).toHaveLength(2);
  expect(pool.status().counters).toMatchObject({ allocations: 2, reuses: 1, rejections: 0 });
  expect(lines.filter((l) => l.msg === 'session allocated').map((l) => l.identifier)).toEqual([
    'user-1',
    'user-2',
  ]);
  expect(lines.find((l) => l.msg === 'session reused')).toMatchObject({ identifier: 'user-1' });
});

test('ready sessions are started ahead, handed to new identifiers, and refilled', async () => {
  const { pool, launcher } = makePool({ maxSessions: 4, readySessions: 2 });
  pool.start();
  await settle();
  expect(pool.status()).toMatchObject({ ready: 2, allocated: 0 });

  const lease = await pool.acquire('abcd');
  expect(lease.sessionId).toBe(launcher.launches[0]?.sessionId);
  expect(pool.status().counters.allocationsFromReady).toBe(1);
  await settle();
  // One taken, one started to take its place.
  expect(launcher.launches).toHaveLength(3);
  expect(pool.status()).toMatchObject({ ready: 2, allocated: 1 });
});

test('ready sessions share the cap: the refill stops at maxSessions', async () => {
  const { pool, launcher } = makePool({ maxSessions: 2, readySessions: 2 });
  pool.start();
  await settle();
  await pool.acquire('aaaa');
  await pool.acquire('bbbb');
  await settle();
  expect(launcher.launches).toHaveLength(2);
  expect(pool.status()).toMatchObject({ ready: 0, allocated: 2 });
  expect((await rejection(pool.acquire('cccc'))).status).toBe(429);
});

test('a new identifier takes a ready session that is still starting rather than launch another', async () => {
  const { pool, launcher } = makePool({ maxSessions: 1, readySessions: 1, auto: false });
  pool.start();
  expect(pool.status()).toMatchObject({ warming: 1 });
  const acquiring = pool.acquire('abcd');
  expect(launcher.launches).toHaveLength(1);
  await launcher.launches[0]?.succeed();
  expect((await acquiring).sessionId).toBe('s1');
});

test('at maxSessions a new identifier gets 429; a stopSession frees the slot for the next', async () => {
  const { pool, launcher, lines } = makePool({ maxSessions: 2 });
  await pool.acquire('aaaa');
  await pool.acquire('bbbb');
  const refused = await rejection(pool.acquire('cccc'));
  expect(refused).toMatchObject({ status: 429, code: 'SessionPoolMaxSessionsReached' });
  expect(lines.find((l) => l.msg === 'allocation rejected: pool at maxSessions')).toMatchObject({
    identifier: 'cccc',
  });
  // Known identifiers still get their sessions.
  await pool.acquire('aaaa');

  await pool.stopSession('bbbb');
  expect(launcher.handles()[1]?.state).toBe('stopped');
  const admitted = await pool.acquire('cccc');
  expect(admitted.sessionId).toBe('s3');
  expect(pool.status().counters).toMatchObject({ rejections: 1, stops: 1, allocations: 3 });
  expect((await rejection(pool.stopSession('bbbb'))).code).toBe('SessionWithIdentifierNotFound');
});

test('an idle session expires after its cooldown; each request restarts it', async () => {
  jest.useFakeTimers();
  const { pool, launcher, lines } = makePool({ maxSessions: 1, cooldownMs: 1_000 });
  (await pool.acquire('abcd')).release();
  await jest.advanceTimersByTimeAsync(900);
  (await pool.acquire('abcd')).release();
  await jest.advanceTimersByTimeAsync(900);
  expect(pool.status().allocated).toBe(1);
  expect((await rejection(pool.acquire('efgh'))).status).toBe(429);

  await jest.advanceTimersByTimeAsync(200);
  expect(pool.status().allocated).toBe(0);
  expect(launcher.handles()[0]?.state).toBe('stopped');
  expect(lines.find((l) => l.msg === 'session expired after its cooldown')).toMatchObject({
    identifier: 'abcd',
  });
  // The freed slot admits the next identifier, and the expired one would start afresh.
  expect((await pool.acquire('efgh')).sessionId).toBe('s2');
  expect(pool.status().counters.expiries).toBe(1);
});

test('a session with a request in flight does not expire; the cooldown runs from its end', async () => {
  jest.useFakeTimers();
  const { pool } = makePool({ cooldownMs: 1_000 });
  const lease = await pool.acquire('abcd');
  await jest.advanceTimersByTimeAsync(10_000);
  expect(pool.status().allocated).toBe(1);
  lease.release();
  lease.release(); // idempotent: one hold, one release
  await jest.advanceTimersByTimeAsync(999);
  expect(pool.status().allocated).toBe(1);
  await jest.advanceTimersByTimeAsync(2);
  expect(pool.status().allocated).toBe(0);
});

test('a session that fails to start is reported with its reason and frees its slot', async () => {
  const { pool, launcher, lines } = makePool({ maxSessions: 1, auto: false });
  const waiting = [pool.acquire('abcd'), pool.acquire('abcd')];
  launcher.launches[0]?.fail('engine exited with code 1: Combined cgroup v1+v2 mode');
  for (const attempt of waiting) {
    const error = await rejection(attempt);
    expect(error).toMatchObject({ status: 503, code: 'SessionStartFailed' });
    expect(error.message).toContain('Combined cgroup v1+v2 mode');
  }
  expect(pool.status()).toMatchObject({ allocated: 0, warming: 0, sessions: [] });
  expect(lines.find((l) => l.msg === 'session failed to start')).toMatchObject({
    identifier: 'abcd',
  });
  launcher.auto = true;
  expect((await pool.acquire('efgh')).sessionId).toBe('s2');
});

test('a ready session that fails to start is retried with backoff, not in a loop', async () => {
  jest.useFakeTimers();
  const { pool, launcher } = makePool({ maxSessions: 2, readySessions: 1, auto: false });
  pool.start();
  launcher.launches[0]?.fail('no engine');
  await settle();
  expect(launcher.launches).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1_000);
  expect(launcher.launches).toHaveLength(2);
  launcher.launches[1]?.fail('no engine');
  await settle();
  await jest.advanceTimersByTimeAsync(1_500);
  expect(launcher.launches).toHaveLength(2);
  await jest.advanceTimersByTimeAsync(600);
  expect(launcher.launches).toHaveLength(3);
});

test('a session that dies is dropped: its slot is free and its identifier starts afresh', async () => {
  const { pool, launcher, lines } = makePool({ maxSessions: 1 });
  const lease = await pool.acquire('abcd');
  lease.release();
  await launcher.handles()[0]?.crash();
  await settle();
  expect(pool.status().allocated).toBe(0);
  expect(lines.find((l) => String(l.msg).startsWith('session exited unexpectedly'))).toMatchObject({
    identifier: 'abcd',
    reason: 'killed by SIGKILL',
  });
  // What it may have left behind is cleaned up like any stopped session.
  expect(launcher.handles()[0]?.stops).toBe(1);
  expect((await pool.acquire('abcd')).sessionId).toBe('s2');
});

test('stopSession during the start aborts it; the waiting request is told so', async () => {
  const { pool, launcher } = makePool({ auto: false });
  const waiting = pool.acquire('abcd');
  await pool.stopSession('abcd');
  expect(launcher.launches[0]?.outcome).toBe('aborted');
  expect(await rejection(waiting)).toMatchObject({ status: 503, code: 'SessionStopped' });
  expect(pool.status().sessions).toEqual([]);
});

test('getSession and listSessions describe allocated sessions only', async () => {
  let now = Date.parse('2026-04-30T13:30:00Z');
  const launcher = new FakeLauncher();
  const pool = new SessionPool({
    maxSessions: 3,
    readySessions: 1,
    cooldownMs: 300_000,
    launch: launcher.launch,
    logger: memoryLogger().logger,
    now: () => now,
  });
  pools.push(pool);
  pool.start();
  await settle();
  now += 60_000;
  (await pool.acquire('user-123')).release();
  const view = pool.getSession('user-123');
  expect(view).toEqual({
    identifier: 'user-123',
    etag: expect.any(String),
    createdAt: '2026-04-30T13:31:00Z',
    lastAccessedAt: '2026-04-30T13:31:00Z',
    expiresAt: '2026-04-30T13:36:00Z',
  });
  now += 1_000;
  (await pool.acquire('user-123')).release();
  expect(pool.getSession('user-123').etag).not.toBe(view.etag);
  expect(pool.listSessions().map((s) => s.identifier)).toEqual(['user-123']);
  expect(() => pool.getSession('nobody')).toThrow(PoolError);
});

test('shutdown stops every session, starting ones included, and refuses new requests', async () => {
  const { pool, launcher } = makePool({ maxSessions: 4, readySessions: 2, auto: false });
  pool.start();
  await launcher.launches[0]?.succeed();
  // Takes the ready s1; the refill starts s3 beside the still starting s2.
  const waiting = pool.acquire('abcd');
  await pool.shutdown();
  expect(launcher.launches.map((l) => l.outcome)).toEqual(['started', 'aborted', 'aborted']);
  expect(launcher.handles().every((h) => h.state === 'stopped')).toBe(true);
  expect(await rejection(waiting)).toMatchObject({ status: 503, code: 'SessionStopped' });
  expect((await rejection(pool.acquire('efgh'))).status).toBe(503);
});

test('50 identifiers at once with maxSessions 5: exactly 5 sessions, 45 refused, none hang', async () => {
  const { pool, launcher } = makePool({ maxSessions: 5, auto: false });
  const attempts = Array.from({ length: 50 }, (_, i) => pool.acquire(`user-${i}`));
  // Decided before any session started: five reserved, the rest refused.
  expect(launcher.launches).toHaveLength(5);
  for (const launch of [...launcher.launches].reverse()) await launch.succeed();
  const results = await Promise.allSettled(attempts);
  const granted = results.filter((r) => r.status === 'fulfilled');
  const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as PoolError] : []));
  expect(granted).toHaveLength(5);
  expect(refused).toHaveLength(45);
  expect(refused.every((e) => e.status === 429)).toBe(true);
  expect(pool.status()).toMatchObject({ allocated: 5, counters: { rejections: 45 } });
});

/** A small seeded generator, so a failing order can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

test.each(Array.from({ length: 300 }, (_, seed) => seed))(
  'any interleaving (seed %i): never over the cap, every request settles, nothing leaks',
  async (seed) => {
    jest.useFakeTimers();
    const next = random(seed);
    const pick = <T>(items: T[]): T | undefined => items[Math.floor(next() * items.length)];
    const maxSessions = 1 + Math.floor(next() * 4);
    const readySessions = Math.floor(next() * (maxSessions + 1));
    const { pool, launcher } = makePool({
      maxSessions,
      readySessions,
      cooldownMs: 1_000,
      auto: false,
    });
    const identifiers = Array.from({ length: 8 }, (_, i) => `id-${i}`);
    const settled: Array<Promise<unknown>> = [];
    const leases: Lease[] = [];
    pool.start();

    const checkInvariants = () => {
      const status = pool.status();
      expect(status.allocated).toBeLessThanOrEqual(maxSessions);
      expect(status.allocated + status.ready + status.warming).toBeLessThanOrEqual(maxSessions);
      // Every session the pool counts is one the launcher has not finished with.
      const counted = status.sessions.filter((s) => s.state !== 'stopping').length;
      expect(counted).toBe(status.allocated + status.ready + status.warming);
    };

    for (let step = 0; step < 60; step += 1) {
      const action = next();
      if (action < 0.35) {
        settled.push(
          pool.acquire(pick(identifiers) as string).then(
            (lease) => leases.push(lease),
            (error: unknown) => {
              if (!(error instanceof PoolError)) throw error;
              expect([429, 503]).toContain(error.status);
            },
          ),
        );
      } else if (action < 0.55) {
        await pick(launcher.pending())?.succeed();
      } else if (action < 0.62) {
        pick(launcher.pending())?.fail('boom');
      } else if (action < 0.77) {
        leases.splice(Math.floor(next() * leases.length), 1)[0]?.release();
      } else if (action < 0.85) {
        settled.push(pool.stopSession(pick(identifiers) as string).catch(() => undefined));
      } else if (action < 0.9) {
        await pick(launcher.running())?.crash();
      } else {
        await jest.advanceTimersByTimeAsync(Math.floor(next() * 1_500));
      }
      await settle();
      checkInvariants();
    }

    // Let everything finish: every start completes, every request ends.
    launcher.auto = true;
    while (launcher.pending().length > 0) {
      for (const launch of launcher.pending()) await launch.succeed();
      await settle();
    }
    await Promise.all(settled);
    for (const lease of leases.splice(0)) lease.release();
    await pool.shutdown();
    await Promise.all(settled);
    expect(pool.status()).toMatchObject({
      allocated: 0,
      ready: 0,
      warming: 0,
      stopping: 0,
      sessions: [],
    });
    expect(launcher.running()).toEqual([]);
    expect(launcher.pending()).toEqual([]);
  },
);
