import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultFiles } from '../../adapter/execution/pythonRunner/resultFiles';

describe('ResultFiles', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(path.join(os.tmpdir(), 'psa-result-files-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('makes one folder, named with its pid, that anyone may write to but nobody may list', () => {
    const files = new ResultFiles(parent);
    const first = files.newPath();
    const second = files.newPath();
    expect(path.dirname(first)).toBe(path.dirname(second));
    expect(first).not.toBe(second);
    expect(path.basename(path.dirname(first))).toMatch(
      new RegExp(`^piston-session-results-${process.pid}-`),
    );
    expect(statSync(path.dirname(first)).mode & 0o7777).toBe(0o1733);
    files.close();
    expect(existsSync(path.dirname(first))).toBe(false);
  });

  it('takes a result once and removes it; a missing one is missing', () => {
    const files = new ResultFiles(parent);
    const result = files.newPath();
    writeFileSync(result, '{"value": 1}');
    expect(files.take(result)).toEqual({ kind: 'text', text: '{"value": 1}' });
    expect(existsSync(result)).toBe(false);
    expect(files.take(result)).toEqual({ kind: 'missing' });
    files.close();
  });

  it('refuses to read more than its limit', () => {
    const files = new ResultFiles(parent, 10);
    const result = files.newPath();
    writeFileSync(result, 'x'.repeat(11));
    const taken = files.take(result);
    expect(taken).toMatchObject({ kind: 'unreadable' });
    expect(existsSync(result)).toBe(false);
    files.close();
  });
});

describe('ResultFiles, what a job may plant at its result path', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(path.join(os.tmpdir(), 'psa-result-plant-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('a FIFO is unreadable at once, not an open() that waits for a writer', () => {
    const files = new ResultFiles(parent);
    const result = files.newPath();
    expect(spawnSync('mkfifo', [result]).status).toBe(0);
    expect(files.take(result)).toMatchObject({ kind: 'unreadable' });
    expect(existsSync(result)).toBe(false);
    files.close();
  });

  it('a link is unreadable and removed', () => {
    const files = new ResultFiles(parent);
    const result = files.newPath();
    symlinkSync('/etc/hostname', result);
    expect(files.take(result)).toMatchObject({ kind: 'unreadable' });
    expect(existsSync(result)).toBe(false);
    files.close();
  });
});
