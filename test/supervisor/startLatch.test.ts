import { StartLatch } from '../../adapter/supervisor/startLatch';

describe('StartLatch', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('resolves with the first outcome and the time since the latch was made', async () => {
    const latch = new StartLatch();
    jest.advanceTimersByTime(1_250);
    latch.settle(true, null);
    await expect(latch.outcome).resolves.toEqual({ ready: true, reason: null, durationMs: 1_250 });
  });

  test('only the first settle counts', async () => {
    const latch = new StartLatch();
    latch.settle(false, 'engine did not become healthy within 60000 ms');
    jest.advanceTimersByTime(500);
    latch.settle(true, null);
    await expect(latch.outcome).resolves.toEqual({
      ready: false,
      reason: 'engine did not become healthy within 60000 ms',
      durationMs: 0,
    });
  });

  test('stays pending until settled', async () => {
    const latch = new StartLatch();
    const seen = jest.fn();
    void latch.outcome.then(seen);
    await Promise.resolve();
    expect(seen).not.toHaveBeenCalled();
    latch.settle(true, null);
    await latch.outcome;
    expect(seen).toHaveBeenCalledTimes(1);
  });
});
