/**
 * A process's own accounting, from /proc (Linux): CPU time and resident memory. CPU time of
 * the adapter alone, not of the engine it launched (children count only once reaped).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { procStatFields } from '../../../adapter/system/procStat';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!(ticksPerSecond > 0)) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** User plus system CPU time the process has used, in milliseconds (10 ms resolution). */
export function cpuTimeMs(pid: number): number {
  const fields = procStatFields(pid);
  // utime and stime are fields 14 and 15 of proc(5).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicks();
}

function statusField(pid: number, name: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  if (match === null) throw new Error(`no ${name} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Resident set size now, in MiB. */
export function rssMb(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Highest resident set size since the process started, in MiB. */
export function peakRssMb(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Open file descriptors (sockets included). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * The machine's time so far, every core, in milliseconds, from one read of /proc/stat:
 * `busy` is user and system (not idle, not waiting on I/O), `idle` idle only, `total` every
 * state.
 */
function machineTimes(): { busy: number; idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guest time is
  // already inside user (and guest_nice inside nice), so only the first eight add up.
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const toMs = (value: number) => (value * 1000) / clockTicks();
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = ticks[3] ?? 0;
  const iowait = ticks[4] ?? 0;
  return { busy: toMs(total - idle - iowait), idle: toMs(idle), total: toMs(total) };
}

/**
 * CPU time the whole machine has spent busy (every core, user and system, not idle or
 * waiting on I/O), in milliseconds: what a run costs everything it touches, the engine's jobs
 * included, which no one process's accounting shows.
 */
export function machineBusyMs(): number {
  return machineTimes().busy;
}

export interface QuietOptions {
  /** Quiet: less than this fraction of the machine's time not idle over one window. */
  below: number;
  windowMs: number;
  /** Gives up after this long, quiet or not. */
  timeoutMs: number;
}

/**
 * Waits, bounded, until the machine has gone quiet: an engine goes on with jobs whose client
 * has left (and cleans up after each), so a load run that starts at once pays for the one
 * before. Resolves true once quiet, false when `timeoutMs` passed first.
 */
export async function untilMachineQuiet(options: QuietOptions): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const before = machineTimes();
    await new Promise((resolve) => setTimeout(resolve, options.windowMs));
    const after = machineTimes();
    const total = after.total - before.total;
    // Waiting on I/O is not quiet: a job's clean-up on disk would still be going on.
    const notIdle = total - (after.idle - before.idle);
    if (total > 0 && notIdle / total < options.below) return true;
    if (performance.now() >= deadline) return false;
  }
}
