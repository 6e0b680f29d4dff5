import { cpuTimeMs, machineBusyMs } from '../../scripts/bench/support/proc';

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
});
