import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A temporary folder for this process alone, named `<prefix><pid>-<random>`. A process killed
 * with SIGKILL cannot remove its own: the next one to make a folder with the same prefix
 * removes those whose process is gone. In a container /tmp goes with the container; on a
 * host it would grow without end, and real Piston stats every entry of /tmp after each job.
 * A reused pid only keeps a dead folder a while longer.
 */
export function makeProcessFolder(prefix: string, parent: string = os.tmpdir()): string {
  sweepAbandonedFolders(prefix, parent);
  return mkdtempSync(path.join(parent, `${prefix}${process.pid}-`));
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
    const match = /^(\d+)-[^/]+$/.exec(name.slice(prefix.length));
    const pid = Number(match?.[1] ?? Number.NaN);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) {
      continue;
    }
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

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
