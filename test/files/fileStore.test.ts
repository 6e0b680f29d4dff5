import {
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  chmod,
  utimes,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileStore, type FileStoreOptions } from '../../adapter/files/fileStore';
import { KeyedQueue } from '../../adapter/files/keyedQueue';
import { AdapterError } from '../../adapter/errors/adapterError';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'psa-file-store-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function storeWith(limits: Partial<FileStoreOptions> = {}): FileStore {
  return new FileStore({
    dir: root,
    maxFileBytes: 1024 * 1024,
    maxCount: 100,
    maxTotalBytes: 10 * 1024 * 1024,
    engineFilesystem: 'shared',
    engineBodyLimitBytes: 100 * 1024,
    ...limits,
  });
}

/** Stores `content` as an upload would: written to a temporary file, then committed. */
async function put(
  store: FileStore,
  identifier: string | undefined,
  name: string,
  content: string | Buffer,
) {
  const tempPath = store.stagingPath();
  await writeFile(tempPath, content);
  return store.commit(identifier, name, tempPath);
}

async function rejection(promise: Promise<unknown>): Promise<AdapterError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof AdapterError) return error;
  throw new Error(`expected an AdapterError, got ${String(error)}`);
}

async function leftoverUploads(): Promise<string[]> {
  return (await readdir(root)).filter((name) => name.startsWith('.upload-'));
}

describe('FileStore', () => {
  test('commit stores the file in the folder itself and describes it; list sorts by name', async () => {
    const store = storeWith();
    const stored = await put(store, 'abcd', 'b.csv', 'x,y\n1,2\n');
    await put(store, 'abcd', 'a.txt', 'hello');
    expect(stored).toMatchObject({ name: 'b.csv', size: 8, contentType: 'text/csv' });
    expect(Math.abs(stored.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await store.list('abcd')).map((file) => [file.name, file.size])).toEqual([
      ['a.txt', 5],
      ['b.csv', 8],
    ]);
    // No folder per identifier: the code finds the file at FILES_DIR/<name>.
    expect(await readFile(path.join(root, 'a.txt'), 'utf8')).toBe('hello');
    expect(await leftoverUploads()).toEqual([]);
  });

  test('a staged upload a job swapped for a link: 409, and the link target is never widened', async () => {
    const store = storeWith();
    const outside = await mkdtemp(path.join(os.tmpdir(), 'psa-outside-'));
    try {
      const victim = path.join(outside, 'secret');
      await writeFile(victim, 'root only', { mode: 0o600 });
      const tempPath = store.stagingPath();
      await writeFile(tempPath, 'upload');
      // What a job (any uid may write the folder) could do between the write and the commit.
      await rm(tempPath);
      await symlink(victim, tempPath);
      const error = await rejection(store.commit('abcd', 'a.txt', tempPath));
      expect(error.status).toBe(409);
      expect(error.code).toBe('upload_replaced');
      expect((await stat(victim)).mode & 0o777).toBe(0o600);
      expect(await readdir(root)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('an upload named like a folder the code made: 409 file_name_is_a_folder', async () => {
    const store = storeWith();
    await mkdir(path.join(root, 'evil'));
    await writeFile(path.join(root, 'evil', 'inside.txt'), 'x');
    const error = await rejection(put(store, 'abcd', 'evil', 'upload'));
    expect(error.status).toBe(409);
    expect(error.code).toBe('file_name_is_a_folder');
    expect(await readFile(path.join(root, 'evil', 'inside.txt'), 'utf8')).toBe('x');
    expect(await leftoverUploads()).toEqual([]);
  });

  test('shared mode: the folder and uploads are usable by any uid (0777, 0666)', async () => {
    const store = storeWith();
    await put(store, 'abcd', 'a.txt', 'x');
    expect((await stat(root)).mode & 0o7777).toBe(0o777);
    expect((await stat(path.join(root, 'a.txt'))).mode & 0o7777).toBe(0o666);
    // No staging folder a job could replace with a link: uploads stage as files of the folder.
    expect(await readdir(root)).toEqual(['a.txt']);
  });

  test('commit strips /mnt/data/ and refuses names that escape, leaving no temporary file', async () => {
    const store = storeWith();
    await put(store, undefined, '/mnt/data/x.csv', 'x');
    expect((await store.list(undefined)).map((file) => file.name)).toEqual(['x.csv']);
    const error = await rejection(put(store, undefined, '../escape.txt', 'x'));
    expect(error.status).toBe(400);
    expect(await readdir(path.dirname(root))).not.toContain('escape.txt');
    expect(await leftoverUploads()).toEqual([]);
  });

  test('a file over the size limit is refused with 413 naming FILE_MAX_BYTES', async () => {
    const store = storeWith({ maxFileBytes: 4 });
    await put(store, 'sess', 'ok.txt', '1234');
    const error = await rejection(put(store, 'sess', 'big.txt', '12345'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('file_too_large');
    expect(error.message).toContain('FILE_MAX_BYTES');
    expect((await store.list('sess')).map((file) => file.name)).toEqual(['ok.txt']);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('the count limit refuses a new name but lets an existing one be replaced', async () => {
    const store = storeWith({ maxCount: 2 });
    await put(store, 'sess', 'a.txt', 'a');
    await put(store, 'sess', 'b.txt', 'b');
    const error = await rejection(put(store, 'sess', 'c.txt', 'c'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('too_many_files');
    expect(error.message).toContain('FILES_MAX_COUNT');
    await put(store, 'sess', 'a.txt', 'replaced');
    expect((await store.list('sess')).map((file) => [file.name, file.size])).toEqual([
      ['a.txt', 8],
      ['b.txt', 1],
    ]);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('the total limit counts the other files, not the one being replaced', async () => {
    const store = storeWith({ maxTotalBytes: 10 });
    await put(store, 'sess', 'a.txt', '123456');
    const error = await rejection(put(store, 'sess', 'b.txt', '12345'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('session_files_too_large');
    expect(error.message).toContain('FILES_MAX_TOTAL_BYTES');
    expect(error.details).toMatchObject({ size: 5, total: 11, limit: 10 });
    await put(store, 'sess', 'b.txt', '1234');
    await put(store, 'sess', 'a.txt', '123456');
    expect((await store.list('sess')).reduce((sum, file) => sum + file.size, 0)).toBe(10);
  });

  test('the total limit counts what code wrote anywhere in the folder, and the answer says so', async () => {
    const store = storeWith({ maxTotalBytes: 100 });
    await put(store, 'sess', 'a.txt', 'x'.repeat(10));
    // What a job does: a folder and a file in it, with the job's umask.
    await mkdir(path.join(root, 'out'), { mode: 0o755 });
    await writeFile(path.join(root, 'out', 'big.bin'), Buffer.alloc(95), { mode: 0o644 });
    const notice = await store.afterExecution('sess');
    expect(notice).toMatchObject({ overLimit: true, totalBytes: 105, limit: 100 });
    expect(notice?.message).toContain('FILES_MAX_TOTAL_BYTES');
    const refused = await rejection(put(store, 'sess', 'b.txt', 'y'));
    expect(refused.code).toBe('session_files_too_large');
    await rm(path.join(root, 'out'), { recursive: true });
    expect(await store.afterExecution('sess')).toBeUndefined();
    await put(store, 'sess', 'b.txt', 'y');
  });

  test('limits hold under concurrent commits: exactly the allowed number land', async () => {
    const store = storeWith({ maxCount: 3 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) => put(store, 'sess', `f${index}.txt`, 'x')),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    const refusals = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(refusals).toHaveLength(5);
    for (const refusal of refusals) {
      expect((refusal as PromiseRejectedResult).reason).toMatchObject({ code: 'too_many_files' });
    }
    expect(await store.list('sess')).toHaveLength(3);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('missing files give 404 naming the file and listing what exists', async () => {
    const store = storeWith();
    await put(store, 'sess', 'present.txt', 'x');
    for (const attempt of [
      () => store.describe('sess', 'absent.txt'),
      () => store.openForReading('sess', 'absent.txt'),
      () => store.remove('sess', 'absent.txt'),
    ]) {
      const error = await rejection(attempt());
      expect(error.status).toBe(404);
      expect(error.details).toEqual({
        name: 'absent.txt',
        identifier: 'sess',
        files: ['present.txt'],
      });
    }
  });

  test('a reader holding a file sees the whole old version while it is replaced', async () => {
    const store = storeWith();
    const before = 'a'.repeat(200_000);
    const after = 'b'.repeat(100_000);
    await put(store, 'sess', 'big.txt', before);
    const { file, stream } = await store.openForReading('sess', 'big.txt');
    await put(store, 'sess', 'big.txt', after);
    let read = '';
    for await (const chunk of stream) read += String(chunk);
    expect(file.size).toBe(before.length);
    expect(read).toBe(before);
    const { stream: fresh } = await store.openForReading('sess', 'big.txt');
    let again = '';
    for await (const chunk of fresh) again += String(chunk);
    expect(again).toBe(after);
  });

  test('links a job planted are never followed, listed or served', async () => {
    const store = storeWith();
    const outside = await mkdtemp(path.join(os.tmpdir(), 'psa-outside-'));
    try {
      await writeFile(path.join(outside, 'secret.txt'), 'not the session', { mode: 0o600 });
      await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
      await link(path.join(outside, 'secret.txt'), path.join(root, 'hard.txt'));
      expect(await store.list(undefined)).toEqual([]);
      expect((await rejection(store.openForReading(undefined, 'link.txt'))).status).toBe(404);
      expect((await rejection(store.openForReading(undefined, 'hard.txt'))).status).toBe(404);
      await store.afterExecution(undefined);
      // Normalising never widened the file behind either link.
      expect((await stat(path.join(outside, 'secret.txt'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('FileStore: what code leaves in the folder (shared mode)', () => {
  test('after an execution, files and folders are widened so the next uid can use them', async () => {
    const store = storeWith();
    await mkdir(path.join(root, 'charts'), { mode: 0o755 });
    await writeFile(path.join(root, 'charts', 'c.png'), 'png', { mode: 0o644 });
    await writeFile(path.join(root, 'out.csv'), 'a\n', { mode: 0o600 });
    await chmod(path.join(root, 'charts'), 0o755);
    await store.afterExecution('writer-1');
    expect((await lstat(path.join(root, 'charts'))).mode & 0o7777).toBe(0o777);
    expect((await lstat(path.join(root, 'charts', 'c.png'))).mode & 0o7777).toBe(0o666);
    expect((await lstat(path.join(root, 'out.csv'))).mode & 0o7777).toBe(0o666);
    // Listed (top-level files), downloadable, and the writer owns the session now.
    expect((await store.list('writer-1')).map((file) => file.name)).toEqual(['out.csv']);
    expect((await rejection(store.list('writer-2'))).status).toBe(409);
  });

  test('a new file deep in a subfolder is seen after a quiet spell, by the folder stamps', async () => {
    const store = storeWith();
    await mkdir(path.join(root, 'a', 'b'), { recursive: true, mode: 0o755 });
    // Stamps well in the past are trusted; fresher ones would force a full survey anyway.
    const past = new Date(Date.now() - 60_000);
    for (const folder of [path.join(root, 'a', 'b'), path.join(root, 'a'), root]) {
      await utimes(folder, past, past);
    }
    await store.afterExecution('deep-1');
    expect((await lstat(path.join(root, 'a', 'b'))).mode & 0o7777).toBe(0o777);
    // Nothing changed: the quick check passes, and modes stay as they are.
    await chmod(path.join(root, 'a'), 0o755);
    await utimes(path.join(root, 'a'), past, past);
    await store.afterExecution('deep-1');
    expect((await lstat(path.join(root, 'a'))).mode & 0o7777).toBe(0o755);
    // A job adds a file two levels down: that folder's stamp moves, and a full survey runs.
    await writeFile(path.join(root, 'a', 'b', 'new.txt'), 'n', { mode: 0o644 });
    await store.afterExecution('deep-1');
    expect((await lstat(path.join(root, 'a', 'b', 'new.txt'))).mode & 0o7777).toBe(0o666);
    expect((await lstat(path.join(root, 'a'))).mode & 0o7777).toBe(0o777);
  });

  test('an execution that leaves nothing keeps the container free', async () => {
    const store = storeWith();
    await store.afterExecution('grader-1');
    expect(await store.list('grader-2')).toEqual([]);
    expect(store.usage()).toMatchObject({ hasFiles: false });
  });

  test("the owner's clear empties the folder, subfolders too, and frees the container", async () => {
    const store = storeWith();
    await put(store, 'owner-1', 'a.txt', 'a');
    await mkdir(path.join(root, 'sub'));
    await writeFile(path.join(root, 'sub', 'b.txt'), 'b');
    await writeFile(path.join(root, '.hidden'), 'c');
    expect((await rejection(store.clear('other-1'))).code).toBe(
      'session_belongs_to_another_identifier',
    );
    expect(await store.clear('owner-1')).toEqual({ filesRemoved: 1 });
    expect(await readdir(root)).toEqual([]);
    expect(await store.list('other-1')).toEqual([]);
    await put(store, 'other-1', 'c.txt', 'c');
    expect((await rejection(store.list('owner-1'))).status).toBe(409);
  });

  test('deleting the last file frees the container', async () => {
    const store = storeWith();
    await put(store, 'owner-1', 'a.txt', 'a');
    await store.remove('owner-1', 'a.txt');
    await put(store, 'other-1', 'b.txt', 'b');
    expect(store.ownership.owner).toBe('other-1');
  });

  test('concurrent uploads of two identifiers into an empty container: one wins, one gets 409', async () => {
    const store = storeWith();
    const outcomes = await Promise.allSettled([
      put(store, 'first-1', 'a.txt', 'a'),
      put(store, 'second-1', 'b.txt', 'b'),
    ]);
    const won = outcomes.findIndex((outcome) => outcome.status === 'fulfilled');
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = outcomes[1 - won] as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ status: 409 });
    expect((await readdir(root)).sort()).toEqual([won === 0 ? 'a.txt' : 'b.txt']);
    expect(store.ownership.owner).toBe(won === 0 ? 'first-1' : 'second-1');
    expect(await leftoverUploads()).toEqual([]);
  });

  test('files found at start are claimed by the first identifier that uses them', async () => {
    await writeFile(path.join(root, 'left.txt'), 'from before a restart');
    const store = storeWith();
    expect((await store.list('back-1')).map((file) => file.name)).toEqual(['left.txt']);
    expect((await rejection(store.list('other-1'))).status).toBe(409);
  });

  test('shared mode sends nothing with executions: the code reads the folder in place', async () => {
    const store = storeWith();
    await put(store, 'sess', 'big.bin', Buffer.alloc(500 * 1024));
    expect(await store.filesForExecution('sess')).toEqual([]);
  });
});

describe('FileStore: separate mode (the engine cannot see the folder)', () => {
  const separate = (limits: Partial<FileStoreOptions> = {}) =>
    storeWith({ engineFilesystem: 'separate', ...limits });

  test('every file goes base64, byte for byte, so no compile stage takes it', async () => {
    const store = separate();
    const binary = Buffer.from([0, 1, 2, 253, 254, 255]);
    await put(store, 'sess', 'data.csv', 'name,city\nZoë,Zürich\n');
    await put(store, 'sess', 'blob.bin', binary);
    await put(store, 'sess', 'empty.txt', '');
    const files = await store.filesForExecution('sess');
    expect(files.map((file) => file.encoding)).toEqual(['base64', 'base64', 'base64']);
    const bytes = (name: string) =>
      Buffer.from(files.find((file) => file.name === name)?.content ?? 'missing', 'base64');
    expect(bytes('data.csv').toString('utf8')).toBe('name,city\nZoë,Zürich\n');
    expect(bytes('blob.bin').equals(binary)).toBe(true);
    expect(bytes('empty.txt').length).toBe(0);
  });

  test("an upload that would push the session past the engine's body is 413 at upload time", async () => {
    const store = separate({ engineBodyLimitBytes: 1000 });
    await put(store, 'sess', 'small.txt', 'x'.repeat(300));
    const error = await rejection(put(store, 'sess', 'huge.csv', 'y'.repeat(500)));
    expect(error.status).toBe(413);
    expect(error.code).toBe('upload_exceeds_engine_body');
    expect(error.message).toContain('ENGINE_BODY_LIMIT_BYTES');
    expect(error.details).toMatchObject({ name: 'huge.csv', size: 500, limit: 1000 });
    expect((await store.list('sess')).map((file) => file.name)).toEqual(['small.txt']);
    expect(await store.filesForExecution('sess')).toHaveLength(1);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('no survey and no mode changes after executions', async () => {
    const store = separate();
    await writeFile(path.join(root, 'x.txt'), 'x', { mode: 0o600 });
    expect(await store.afterExecution('sess')).toBeUndefined();
    expect((await stat(path.join(root, 'x.txt'))).mode & 0o777).toBe(0o600);
  });
});

describe('KeyedQueue', () => {
  test('runs tasks under one key in order, and a failure does not stop the next', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    let releaseFirst = () => {};
    const first = queue.run('k', async () => {
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first');
      throw new Error('first failed');
    });
    const second = queue.run('k', async () => {
      order.push('second');
      return 2;
    });
    const other = queue.run('other', async () => {
      order.push('other');
      return 3;
    });
    await expect(other).resolves.toBe(3);
    expect(order).toEqual(['other']);
    releaseFirst();
    await expect(first).rejects.toThrow('first failed');
    await expect(second).resolves.toBe(2);
    expect(order).toEqual(['other', 'first', 'second']);
  });
});
