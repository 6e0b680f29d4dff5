import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { cpuTimeMs, machineBusyMs, untilMachineQuiet } from '../../scripts/bench/support/proc';

/** Spins this process until it has used `ms` more CPU time, by its own account. */
function spinFor(ms: number): number {
  const start = process.cpuUsage();
  let used = 0;
  while (used < ms) {
    const now = process.cpuUsage(start);
    used = (now.user + now.system) / 1000;
  }
  return used;
}

// The bench's CPU accounting (python-result's CPU per request rows). /proc counts in clock
// ticks (10 ms here), so each figure may trail by a tick or two.
describe('bench CPU accounting', () => {
  test("the whole machine's busy time grows at least by what this process spent", () => {
    const before = machineBusyMs();
    const spent = spinFor(300);
    const grown = machineBusyMs() - before;
    expect(Number.isFinite(grown)).toBe(true);
    expect(grown).toBeGreaterThanOrEqual(spent - 30);
  });

  test("a process's own CPU time grows by what it spent", () => {
    const before = cpuTimeMs(process.pid);
    const spent = spinFor(300);
    const grown = cpuTimeMs(process.pid) - before;
    expect(grown).toBeGreaterThanOrEqual(spent - 30);
    // Only this process's time: far less than it would be counting every core's.
    expect(grown).toBeLessThan(spent + 300);
  });

  // Whether this machine is quiet while the suite runs is not known; the bounds are.
  test('waiting for a quiet machine ends at once when any load counts as quiet', async () => {
    const started = performance.now();
    await expect(untilMachineQuiet({ below: 1.01, windowMs: 20, timeoutMs: 10_000 })).resolves.toBe(
      true,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('waiting for a quiet machine gives up at its deadline when nothing counts as quiet', async () => {
    const started = performance.now();
    await expect(untilMachineQuiet({ below: 0, windowMs: 20, timeoutMs: 200 })).resolves.toBe(
      false,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
  });

  test('a machine with one core kept busy is not quiet at half a core', async () => {
    // One thread spinning keeps at least one core's worth busy, whatever else runs.
    const spinner = new Worker('const end = Date.now() + 20000; while (Date.now() < end) {}', {
      eval: true,
    });
    try {
      await new Promise((resolve) => spinner.once('online', resolve));
      // os.cpus() counts the cpu lines of /proc/stat, the very cores the fraction is taken over.
      const below = 0.5 / os.cpus().length;
      await expect(untilMachineQuiet({ below, windowMs: 100, timeoutMs: 400 })).resolves.toBe(
        false,
      );
    } finally {
      await spinner.terminate();
    }
  });
});
