import { getEventListeners } from 'node:events';
import { linkedSignal, settleWithin, sleep } from '../../adapter/timing/deadline';

/**
 * settleWithin and sleep wait through node:timers/promises, which jest's fake timers do not
 * reach: those tests use real deadlines of a few milliseconds. linkedSignal's timer is the
 * global setTimeout, so its tests use fake timers.
 */
const never = new Promise<never>(() => undefined);
const activeTimeouts = () =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

describe('settleWithin', () => {
  test('gives the value when the promise settles in time', async () => {
    await expect(settleWithin(Promise.resolve(42), 60_000)).resolves.toEqual({
      settled: true,
      value: 42,
    });
  });

  test('gives up after the deadline when the promise never settles', async () => {
    await expect(settleWithin(never, 5)).resolves.toEqual({ settled: false });
  });

  test('a rejection is passed on, not mistaken for a timeout', async () => {
    await expect(settleWithin(Promise.reject(new Error('failed')), 60_000)).rejects.toThrow(
      'failed',
    );
  });

  test('a settled wait leaves no timer to keep the process alive', async () => {
    const before = activeTimeouts();
    await settleWithin(Promise.resolve('done'), 60_000);
    expect(activeTimeouts()).toBe(before);
  });
});

describe('sleep', () => {
  test('resolves true once the time has passed', async () => {
    await expect(sleep(1)).resolves.toBe(true);
  });

  test('resolves false at once for a signal already aborted', async () => {
    await expect(sleep(60_000, AbortSignal.abort())).resolves.toBe(false);
  });

  test('resolves false, without throwing, when the signal aborts during the sleep', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await expect(slept).resolves.toBe(false);
  });
});

describe('linkedSignal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('aborts when any parent aborts', () => {
    const first = new AbortController();
    const second = new AbortController();
    const linked = linkedSignal([first.signal, undefined, second.signal]);
    expect(linked.signal.aborted).toBe(false);
    second.abort();
    expect(linked.signal.aborted).toBe(true);
    linked.dispose();
  });

  test('carries the reason of the parent that aborted, as AbortSignal.any does', () => {
    const first = new AbortController();
    const second = new AbortController();
    const reason = new Error('the engine stopped');
    const linked = linkedSignal([first.signal, second.signal]);
    second.abort(reason);
    expect(linked.signal.reason).toBe(reason);
    linked.dispose();
    const already = new Error('gone before');
    const late = linkedSignal([AbortSignal.abort(already)]);
    expect(late.signal.reason).toBe(already);
    late.dispose();
  });

  test('is aborted from the start when a parent already is', () => {
    const linked = linkedSignal([AbortSignal.abort()]);
    expect(linked.signal.aborted).toBe(true);
    linked.dispose();
  });

  test('aborts after its timeout', () => {
    const linked = linkedSignal([], 1_000);
    jest.advanceTimersByTime(999);
    expect(linked.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(linked.signal.aborted).toBe(true);
    linked.dispose();
  });

  test('dispose detaches from the parents and clears the timer', () => {
    const parent = new AbortController();
    const linked = linkedSignal([parent.signal], 1_000);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    linked.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(jest.getTimerCount()).toBe(0);
    parent.abort();
    jest.advanceTimersByTime(2_000);
    expect(linked.signal.aborted).toBe(false);
  });

  test('without a timeout it sets no timer', () => {
    const linked = linkedSignal([new AbortController().signal]);
    expect(jest.getTimerCount()).toBe(0);
    linked.dispose();
  });
});
