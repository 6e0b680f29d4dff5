import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { procStatFields } from '../../adapter/system/procStat';

describe('procStatFields', () => {
  let procRoot: string;
  beforeEach(() => {
    procRoot = mkdtempSync(path.join(os.tmpdir(), 'psa-proc-stat-'));
  });
  afterEach(() => rmSync(procRoot, { recursive: true, force: true }));

  const plant = (pid: number, stat: string) => {
    mkdirSync(path.join(procRoot, String(pid)));
    writeFileSync(path.join(procRoot, String(pid), 'stat'), stat);
  };

  test('starts at the state, after a command name holding spaces and parentheses', () => {
    plant(42, '42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 12345 0 0\n');
    const fields = procStatFields(42, procRoot);
    expect(fields.slice(0, 3)).toEqual(['S', '1', '42']);
    // utime and stime (fields 14 and 15 of proc(5)), and starttime (field 22).
    expect([fields[11], fields[12], fields[19]]).toEqual(['7', '3', '12345']);
  });

  test("this process's own, from the real /proc (Linux)", () => {
    if (process.platform !== 'linux') return;
    const fields = procStatFields(process.pid);
    expect(fields[0]).toMatch(/^[A-Z]$/);
    expect(Number(fields[1])).toBe(process.ppid);
  });

  test('throws for a process that is not there', () => {
    expect(() => procStatFields(7, procRoot)).toThrow(/ENOENT/);
  });
});
