import { AdmissionGate, type Release } from '../../adapter/execution/admissionGate';
import { AdapterError } from '../../adapter/errors/adapterError';

// Fake timers throughout: queue deadlines are advanced by hand, and a waiter a test leaves
// pending leaves no real timer behind. setImmediate stays real for `settled`.
beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
});
afterEach(() => {
  jest.useRealTimers();
});

/** The AdapterError a refused admission rejects with. */
async function refusal(admission: Promise<Release>): Promise<AdapterError> {
  const error: unknown = await admission.then(
    () => new Error('admitted, but a refusal was expected'),
    (reason: unknown) => reason,
  );
  if (!(error instanceof AdapterError)) throw error;
  return error;
}

/** Settles pending promise callbacks, so "still waiting" can be asserted. */
async function settled<T>(promise: Promise<T>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('AdmissionGate', () => {
  test('admits up to maxInFlight at once, then queues', async () => {
    const gate = new AdmissionGate({ maxInFlight: 2, queueMax: 5, queueWaitMs: 60_000 });
    await gate.admit();
    await gate.admit();
    const third = gate.admit();
    expect(await settled(third)).toBe(false);
    expect(gate.snapshot()).toMatchObject({ inFlight: 2, queued: 1, admitted: 2, queuedTotal: 1 });
  });

  test('past the queue: 429 queue_full at once, with Retry-After and the limits', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 1, queueWaitMs: 60_000 });
    await gate.admit();
    const queued = gate.admit();
    const error = await refusal(gate.admit());
    expect(error.status).toBe(429);
    expect(error.code).toBe('queue_full');
    expect(Number(error.headers['retry-after'])).toBeGreaterThan(0);
    expect(error.toBody().error).toMatchObject({
      source: 'adapter',
      maxInFlight: 1,
      queueMax: 1,
      inFlight: 1,
      queued: 1,
    });
    expect(gate.snapshot()).toMatchObject({ inFlight: 1, queued: 1, rejectedQueueFull: 1 });
    expect(await settled(queued)).toBe(false);
  });

  test('QUEUE_MAX=0: no queue, 429 as soon as every slot is taken', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 0, queueWaitMs: 60_000 });
    const release = await gate.admit();
    expect((await refusal(gate.admit())).status).toBe(429);
    release();
    await expect(gate.admit()).resolves.toBeInstanceOf(Function);
  });

  test('a queued request that waits past QUEUE_WAIT_MS gets 503 queue_timeout', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 4, queueWaitMs: 1_000 });
    await gate.admit();
    const waiting = refusal(gate.admit());
    jest.advanceTimersByTime(999);
    expect(gate.snapshot().queued).toBe(1);
    jest.advanceTimersByTime(1);
    const error = await waiting;
    expect(error.status).toBe(503);
    expect(error.code).toBe('queue_timeout');
    expect(Number(error.headers['retry-after'])).toBeGreaterThan(0);
    expect(gate.snapshot()).toMatchObject({ inFlight: 1, queued: 0, expiredInQueue: 1 });
  });

  test('a release hands the slot to the oldest waiter, first in first out', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 3, queueWaitMs: 60_000 });
    const order: string[] = [];
    const first = await gate.admit();
    const waiters = ['a', 'b', 'c'].map((name) =>
      gate.admit().then((release) => {
        order.push(name);
        return release;
      }),
    );
    first();
    (await waiters[0])?.();
    (await waiters[1])?.();
    (await waiters[2])?.();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(gate.snapshot()).toMatchObject({ inFlight: 0, queued: 0, admitted: 4 });
  });

  test('a newcomer cannot overtake the queue when a slot frees', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 3, queueWaitMs: 60_000 });
    const first = await gate.admit();
    const queued = gate.admit();
    first();
    const newcomer = gate.admit();
    expect(await settled(queued)).toBe(true);
    expect(await settled(newcomer)).toBe(false);
    expect(gate.snapshot()).toMatchObject({ inFlight: 1, queued: 1 });
  });

  test('a caller that goes away while queued leaves the queue: 499, slot count untouched', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 3, queueWaitMs: 60_000 });
    const holder = await gate.admit();
    const gone = new AbortController();
    const waiting = refusal(gate.admit(gone.signal));
    const behind = gate.admit();
    gone.abort();
    const error = await waiting;
    expect(error.status).toBe(499);
    expect(error.code).toBe('client_closed_request');
    expect(gate.snapshot()).toMatchObject({ inFlight: 1, queued: 1, abandonedInQueue: 1 });
    // The slot skips the caller that left and goes to the one behind it.
    holder();
    (await behind)();
    expect(gate.snapshot()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test('an already aborted signal is refused without taking a slot', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 1, queueWaitMs: 60_000 });
    const error = await refusal(gate.admit(AbortSignal.abort()));
    expect(error.status).toBe(499);
    expect(gate.snapshot()).toMatchObject({ inFlight: 0, queued: 0, admitted: 0 });
  });

  test('release is idempotent: a second call cannot free a slot someone else holds', async () => {
    const gate = new AdmissionGate({ maxInFlight: 2, queueMax: 0, queueWaitMs: 60_000 });
    const mine = await gate.admit();
    await gate.admit();
    mine();
    mine();
    expect(gate.snapshot().inFlight).toBe(1);
  });

  test('an admitted caller that aborts later keeps its slot until it releases', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 0, queueWaitMs: 60_000 });
    const gone = new AbortController();
    const release = await gate.admit(gone.signal);
    gone.abort();
    expect(gate.snapshot()).toMatchObject({ inFlight: 1, abandonedInQueue: 0 });
    release();
    expect(gate.snapshot().inFlight).toBe(0);
  });

  test('peaks and totals add up over a burst', async () => {
    const gate = new AdmissionGate({ maxInFlight: 3, queueMax: 2, queueWaitMs: 100 });
    const outcomes = Array.from({ length: 8 }, () =>
      gate.admit().then(
        (release) => ({ ok: true as const, release }),
        (error: AdapterError) => ({ ok: false as const, status: error.status }),
      ),
    );
    jest.advanceTimersByTime(100);
    const results = await Promise.all(outcomes);
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.map((r) => (r.ok ? 200 : r.status)).sort()).toEqual([
      200, 200, 200, 429, 429, 429, 503, 503,
    ]);
    for (const result of results) if (result.ok) result.release();
    expect(gate.snapshot()).toEqual({
      maxInFlight: 3,
      queueMax: 2,
      queueWaitMs: 100,
      inFlight: 0,
      queued: 0,
      peakInFlight: 3,
      peakQueued: 2,
      admitted: 3,
      queuedTotal: 2,
      rejectedQueueFull: 3,
      expiredInQueue: 2,
      abandonedInQueue: 0,
    });
  });
});

describe('AdmissionGate.assertRoom', () => {
  test('passes while a slot or a queue place is free; throws the same 429 once neither is', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, queueMax: 1, queueWaitMs: 60_000 });
    expect(() => gate.assertRoom()).not.toThrow();
    await gate.admit();
    expect(() => gate.assertRoom()).not.toThrow();
    void gate.admit();
    let thrown: unknown;
    try {
      gate.assertRoom();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AdapterError);
    expect(thrown).toMatchObject({ status: 429, code: 'queue_full' });
    expect(gate.snapshot()).toMatchObject({ inFlight: 1, queued: 1, rejectedQueueFull: 1 });
  });
});
