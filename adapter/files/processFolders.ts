import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { procStatFields } from '../system/procStat';

/**
 * A temporary folder for this process alone, named `<prefix><pid>-<start>-<random>`, where
 * start is when the process started (Linux: clock ticks since boot, from /proc; elsewhere
 * 0). A process killed with SIGKILL cannot remove its own: the next one to make a folder
 * with the same prefix removes those whose process is gone, or whose pid now belongs to a
 * process that started at another time: in a container the adapter has the same pid on every
 * start, and a restarted container keeps its /tmp. On a host /tmp would grow without end, and
 * real Piston stats every entry of /tmp after each job.
 */
export function makeProcessFolder(prefix: string, parent: string = os.tmpdir()): string {
  sweepAbandonedFolders(prefix, parent);
  return mkdtempSync(path.join(parent, `${prefix}${process.pid}-${startTime(process.pid)}-`));
}

function sweepAbandonedFolders(prefix: string, parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-(\d+)-[^/]+$/.exec(name.slice(prefix.length));
    if (match === null) continue;
    const pid = Number(match[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0) continue;
    // Alive and the same process: its own, or another adapter's beside it.
    if (processExists(pid) && startTime(pid) === Number(match[2])) continue;
    const full = path.join(parent, name);
    // Only a real folder of this user's: a job's uid (real Piston runs jobs as 1001..1500 with
    // /tmp shared) can make an entry with this name, and the adapter is root in the image. A
    // tree a job owns and still runs in could swap a subfolder for a link while rm walks it.
    const stats = lstatSync(full, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isDirectory() || stats.uid !== process.getuid?.()) continue;
    try {
      rmSync(full, { recursive: true, force: true });
    } catch {
      // Another user's, or going as we look: not ours to insist on.
    }
  }
}

/** When a process started, in clock ticks since boot (/proc/<pid>/stat field 22); 0 unknown. */
function startTime(pid: number): number {
  try {
    const ticks = Number(procStatFields(pid)[19]);
    return Number.isSafeInteger(ticks) ? ticks : 0;
  } catch {
    return 0;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
