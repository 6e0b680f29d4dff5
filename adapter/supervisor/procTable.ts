/**
 * Processes as Linux's /proc shows them: who each belongs to (uids), which process group, and
 * which sockets it holds. Reading /proc needs no tools and no shell; on another OS (no /proc)
 * every function answers "nothing known" and callers say so. `procRoot` is for tests.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { procStatFields } from '../system/procStat';

export interface ProcessInfo {
  pid: number;
  /** One letter: R, S, D, Z (zombie: gone but not yet reaped), ... */
  state: string;
  /** Process group id. */
  pgid: number;
  /** Real and effective uid (Piston kills a job's processes when either is the runner's). */
  ruid: number;
  euid: number;
}

export function hasProcTable(procRoot = '/proc'): boolean {
  try {
    readFileSync(path.join(procRoot, 'self', 'stat'));
    return true;
  } catch {
    return false;
  }
}

/** Every process that could be read; ones that exit meanwhile are skipped. */
export function listProcesses(procRoot = '/proc'): ProcessInfo[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return [];
  }
  const processes: ProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry), procRoot);
    if (info !== null) processes.push(info);
  }
  return processes;
}

export function readProcess(pid: number, procRoot = '/proc'): ProcessInfo | null {
  try {
    const after = procStatFields(pid, procRoot);
    const state = after[0] ?? '?';
    const pgid = Number(after[2]);
    const status = readFileSync(path.join(procRoot, String(pid), 'status'), 'utf8');
    const uidLine = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (!uidLine || !Number.isInteger(pgid)) return null;
    return { pid, state, pgid, ruid: Number(uidLine[1]), euid: Number(uidLine[2]) };
  } catch {
    return null;
  }
}

/**
 * Inodes of the sockets listening on TCP `port` (any address, IPv4 and IPv6), from
 * /proc/net/tcp{,6}: `sl local_address rem_address st ... uid timeout inode`, the port in hex
 * after the colon, state 0A for LISTEN.
 */
export function listeningInodes(port: number, procRoot = '/proc'): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(path.join(procRoot, 'net', table), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== '0A') continue;
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      const inode = fields[9];
      if (parseInt(hexPort, 16) === port && inode !== undefined && inode !== '0') inodes.add(inode);
    }
  }
  return inodes;
}

/** Whether `pid` holds one of the sockets `inodes` names (its fds read `socket:[inode]`). */
export function holdsSocket(pid: number, inodes: Set<string>, procRoot = '/proc'): boolean {
  const fdDir = path.join(procRoot, String(pid), 'fd');
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(path.join(fdDir, fd)));
      if (match?.[1] !== undefined && inodes.has(match[1])) return true;
    } catch {
      // Closed meanwhile.
    }
  }
  return false;
}
