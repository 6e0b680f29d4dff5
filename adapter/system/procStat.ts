import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Linux's /proc/<pid>/stat as fields after the command name: [0] is the state, [1] the ppid,
 * [2] the process group, and field n of proc(5) is at n - 3. The name (field 2) is in
 * parentheses and may hold spaces or ')', so the fields start after the last ')'. Throws when
 * the file cannot be read (no /proc, or the process is gone): each caller says what that means.
 * `procRoot` is for tests.
 */
export function procStatFields(pid: number, procRoot = '/proc'): string[] {
  const stat = readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
