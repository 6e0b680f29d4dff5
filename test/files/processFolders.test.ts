import { spawnSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeProcessFolder } from '../../adapter/files/processFolders';

/** When a process started (/proc/<pid>/stat field 22), as the folder names carry it. */
function startOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  });
  return Number(child.stdout.trim());
}

describe('makeProcessFolder', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(path.join(os.tmpdir(), 'psa-process-folders-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('names the folder with this process id', () => {
    const folder = makeProcessFolder('psa-test-', parent);
    expect(path.dirname(folder)).toBe(parent);
    expect(path.basename(folder)).toMatch(
      new RegExp(`^psa-test-${process.pid}-${startOf(process.pid)}-.+$`),
    );
  });

  it("removes folders of processes that died (SIGKILL) and keeps the living's and others'", () => {
    const dead = `psa-test-${deadPid()}-123-abc123`;
    const living = `psa-test-${process.ppid}-${startOf(process.ppid)}-def456`;
    // The pid of a living process that is not the one that made it: a restarted container
    // gives the adapter the same pid, and keeps /tmp.
    const reused = `psa-test-${process.ppid}-${startOf(process.ppid) + 1}-ghi789`;
    const oldStyle = 'psa-test-XyZ123';
    const otherPrefix = `psa-other-${deadPid()}-ghi789`;
    for (const name of [dead, living, reused, oldStyle, otherPrefix]) {
      mkdirSync(path.join(parent, name));
      writeFileSync(path.join(parent, name, 'left.json'), '{}');
    }
    const mine = path.basename(makeProcessFolder('psa-test-', parent));
    expect(readdirSync(parent).sort()).toEqual([mine, living, oldStyle, otherPrefix].sort());
  });

  it('a second folder of the same live process stays beside the first', () => {
    const first = makeProcessFolder('psa-test-', parent);
    const second = makeProcessFolder('psa-test-', parent);
    expect(readdirSync(parent).sort()).toEqual(
      [path.basename(first), path.basename(second)].sort(),
    );
  });

  it('leaves an entry with the name that is a link, or not a folder', () => {
    const target = mkdtempSync(path.join(os.tmpdir(), 'psa-process-folders-target-'));
    writeFileSync(path.join(target, 'keep'), 'x');
    symlinkSync(target, path.join(parent, `psa-test-${deadPid()}-1-link`));
    writeFileSync(path.join(parent, `psa-test-${deadPid()}-1-file`), 'x');
    makeProcessFolder('psa-test-', parent);
    expect(readdirSync(parent)).toHaveLength(3);
    expect(readdirSync(target)).toEqual(['keep']);
    rmSync(target, { recursive: true, force: true });
  });

  // Needs root to give a folder to another uid, as real Piston's jobs (1001..1500) own theirs.
  (process.getuid?.() === 0 ? it : it.skip)("leaves another uid's folder of a dead pid", () => {
    const theirs = path.join(parent, `psa-test-${deadPid()}-1-theirs`);
    mkdirSync(theirs);
    chownSync(theirs, 1001, 1001);
    makeProcessFolder('psa-test-', parent);
    expect(readdirSync(parent)).toContain(path.basename(theirs));
  });
});
