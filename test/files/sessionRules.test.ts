import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../adapter/config/config';
import { untraversableAncestor } from '../../adapter/files/folderReach';
import { SessionOwnership } from '../../adapter/files/sessionOwnership';
import { SurveyScheduler } from '../../adapter/files/surveyScheduler';
import {
  checkIdentifier,
  checkIdentifierValues,
  identifierValuesOf,
} from '../../adapter/sessions/identifier';

describe('the identifier rule (shared by the adapter and the local pool)', () => {
  test.each(['abcd', 'a'.repeat(128), 'user-123', 'A1|-&^%$#(){}[];<>', '0000'])(
    'accepts %s',
    (identifier) => {
      expect(checkIdentifier(identifier)).toEqual({ kind: 'valid', identifier });
    },
  );

  test.each([
    ['', "'identifier' is empty"],
    ['abc', 'has 3 characters; it must have 4 to 128'],
    ['a'.repeat(129), 'has 129 characters'],
    ['user_1', 'contains "_"'],
    ['us.er 1', 'contains ".", " "'],
    ['abc\u0001', 'contains "\\u0001"'],
    ['zoë-1', 'contains "ë"'],
  ])('refuses %j, naming the rule broken', (identifier, reason) => {
    const check = checkIdentifier(identifier);
    expect(check.kind).toBe('invalid');
    expect(check.kind === 'invalid' && check.reason).toContain(reason);
  });

  test('none is absent; twice is refused even with the same value', () => {
    expect(checkIdentifierValues([])).toEqual({ kind: 'absent' });
    for (const values of [
      ['abcd', 'abcd'],
      ['abcd', 'efgh'],
    ]) {
      const check = checkIdentifierValues(values);
      expect(check.kind === 'invalid' && check.reason).toContain('given 2 times');
    }
  });

  test('read from the raw request target, decoded once', () => {
    expect(identifierValuesOf('/files')).toEqual([]);
    expect(identifierValuesOf('/files?identifier=a%23b1&x=1&identifier=')).toEqual(['a#b1', '']);
    expect(identifierValuesOf('/files?identifier[x]=abcd')).toEqual([]);
  });
});

describe('SessionOwnership', () => {
  test('the first identifier to give files owns the session; others are refused until it empties', () => {
    const ownership = new SessionOwnership(false);
    expect(ownership.verdict('anyone-1').allowed).toBe(true);
    ownership.filesAdded('owner-1');
    expect(ownership.owner).toBe('owner-1');
    expect(ownership.verdict('owner-1').allowed).toBe(true);
    expect(ownership.verdict('other-1').allowed).toBe(false);
    // No identifier: the container's own session, whoever owns it.
    expect(ownership.verdict(undefined).allowed).toBe(true);
    ownership.observed(false, 'owner-1', ownership.generation);
    expect(ownership.verdict('other-1').allowed).toBe(true);
  });

  test('files given without an identifier are the container own: identifiers are refused', () => {
    const ownership = new SessionOwnership(false);
    ownership.filesAdded(undefined);
    expect(ownership.verdict('someone-1').allowed).toBe(false);
    expect(ownership.verdict(undefined).allowed).toBe(true);
  });

  test('a look begun before an upload cannot free the container', () => {
    const ownership = new SessionOwnership(false);
    const before = ownership.generation;
    ownership.filesAdded('owner-1');
    ownership.observed(false, 'grader-1', before);
    expect(ownership.owner).toBe('owner-1');
    expect(ownership.verdict('grader-1').allowed).toBe(false);
  });

  test('an execution that leaves files makes its identifier the owner', () => {
    const ownership = new SessionOwnership(false);
    ownership.observed(true, 'writer-1', ownership.generation);
    expect(ownership.owner).toBe('writer-1');
    // A later look by another identifier does not take it over.
    ownership.observed(true, 'other-1', ownership.generation);
    expect(ownership.owner).toBe('writer-1');
  });

  test('files found at start go to the first identifier admitted', () => {
    const ownership = new SessionOwnership(true);
    expect(ownership.admit(undefined).allowed).toBe(true);
    expect(ownership.owner).toBeNull();
    expect(ownership.admit('back-1').allowed).toBe(true);
    expect(ownership.admit('other-1').allowed).toBe(false);
  });
});

describe('SurveyScheduler', () => {
  test('callers arriving during a survey share one fresh survey after it', async () => {
    let runs = 0;
    const releases: (() => void)[] = [];
    const scheduler = new SurveyScheduler(
      () =>
        new Promise<number>((resolve) => {
          runs += 1;
          const run = runs;
          releases.push(() => resolve(run));
        }),
    );
    const first = scheduler.fresh();
    const waiting = Array.from({ length: 10 }, () => scheduler.fresh());
    expect(runs).toBe(1);
    releases.shift()?.();
    expect(await first).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(2);
    releases.shift()?.();
    // Every late caller got a survey that started after it asked.
    expect(await Promise.all(waiting)).toEqual(Array(10).fill(2));
  });
});

describe('files configuration', () => {
  test('limits that contradict each other stop the adapter at start', () => {
    expect(() => loadConfig({ FILE_MAX_BYTES: '2000', FILES_MAX_TOTAL_BYTES: '1000' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ FILE_MAX_BYTES: '2000', FILES_MAX_TOTAL_BYTES: '1000' })).toThrow(
      /FILE_MAX_BYTES=2000: must not exceed FILES_MAX_TOTAL_BYTES=1000/,
    );
  });

  test('without FILES_DIR, each process gets a folder of its own, removed when it stops', () => {
    const one = loadConfig({});
    const two = loadConfig({});
    expect(one.files.dir).not.toBe(two.files.dir);
    expect(path.isAbsolute(one.files.dir)).toBe(true);
    expect(one.files.dirIsPrivate).toBe(true);
    const given = loadConfig({ FILES_DIR: 'relative/files' });
    expect(given.files.dir).toBe(path.resolve('relative/files'));
    expect(given.files.dirIsPrivate).toBe(false);
  });

  test('engine file system: shared when launched, separate when attached, or as given', () => {
    expect(loadConfig({ ENGINE_COMMAND: 'x' }).files.engineFilesystem).toBe('shared');
    expect(loadConfig({}).files.engineFilesystem).toBe('separate');
    expect(
      loadConfig({ ENGINE_FILESYSTEM: 'separate', ENGINE_COMMAND: 'x' }).files.engineFilesystem,
    ).toBe('separate');
  });
});

describe('untraversableAncestor', () => {
  test('names the first folder above that other users cannot enter', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'psa-reach-'));
    try {
      await mkdir(path.join(root, 'a', 'b'), { recursive: true });
      await chmod(root, 0o755);
      await chmod(path.join(root, 'a'), 0o700);
      expect(untraversableAncestor(path.join(root, 'a', 'b', 'files'))).toBe(path.join(root, 'a'));
      await chmod(path.join(root, 'a'), 0o711);
      expect(untraversableAncestor(path.join(root, 'a', 'b', 'files'))).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
