/**
 * Who answers on the engine's port: the engine the adapter launched, or some other process.
 * A launch whose port is taken fails (EADDRINUSE) while the port's holder answers every probe,
 * so a probe alone would take another adapter's engine for ours and serve through it. The
 * listening socket's inode (/proc/net/tcp) is looked for among the fds of the engine's process
 * group first, then of every process that can be read.
 */
import { hasProcTable, holdsSocket, listeningInodes, listProcesses } from './procTable';

export type PortOwner =
  | { kind: 'engine' }
  /** Held by a process outside the engine's group. */
  | { kind: 'other'; pid: number }
  /** Cannot tell: no /proc, nothing listening seen, or the holder's fds are not readable. */
  | { kind: 'unknown'; why: string };

export function portOwner(port: number, engineGroup: number, procRoot = '/proc'): PortOwner {
  if (!hasProcTable(procRoot)) return { kind: 'unknown', why: 'no /proc on this system' };
  const inodes = listeningInodes(port, procRoot);
  if (inodes.size === 0) return { kind: 'unknown', why: `no socket seen listening on ${port}` };
  const processes = listProcesses(procRoot);
  const inGroup = processes.filter((p) => p.pgid === engineGroup);
  if (inGroup.some((p) => holdsSocket(p.pid, inodes, procRoot))) return { kind: 'engine' };
  const holder = processes.find(
    (p) => p.pgid !== engineGroup && holdsSocket(p.pid, inodes, procRoot),
  );
  if (holder !== undefined) return { kind: 'other', pid: holder.pid };
  return { kind: 'unknown', why: `the holder of port ${port} could not be read` };
}
