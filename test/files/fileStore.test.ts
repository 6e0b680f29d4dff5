import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
    executionBytesLimit: 100 * 1024,
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
  const tempPath = await store.incomingPath();
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
  return readdir(path.join(root, '.incoming')).catch(() => []);
}

describe('FileStore', () => {
  test('commit stores the file and describes it; list sorts by name', async () => {
    const store = storeWith();
    const stored = await put(store, 'abc', 'b.csv', 'x,y\n1,2\n');
    await put(store, 'abc', 'a.txt', 'hello');
    expect(stored).toMatchObject({ name: 'b.csv', size: 8, contentType: 'text/csv' });
    expect(Math.abs(stored.lastModified.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await store.list('abc')).map((file) => [file.name, file.size])).toEqual([
      ['a.txt', 5],
      ['b.csv', 8],
    ]);
    expect(await leftoverUploads()).toEqual([]);
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
    await put(store, 's', 'ok.txt', '1234');
    const error = await rejection(put(store, 's', 'big.txt', '12345'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('file_too_large');
    expect(error.message).toContain('FILE_MAX_BYTES');
    expect((await store.list('s')).map((file) => file.name)).toEqual(['ok.txt']);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('the count limit refuses a new name but lets an existing one be replaced', async () => {
    const store = storeWith({ maxCount: 2 });
    await put(store, 's', 'a.txt', 'a');
    await put(store, 's', 'b.txt', 'b');
    const error = await rejection(put(store, 's', 'c.txt', 'c'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('too_many_files');
    expect(error.message).toContain('FILES_MAX_COUNT');
    await put(store, 's', 'a.txt', 'replaced');
    expect((await store.list('s')).map((file) => [file.name, file.size])).toEqual([
      ['a.txt', 8],
      ['b.txt', 1],
    ]);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('the total limit counts the other files, not the one being replaced', async () => {
    const store = storeWith({ maxTotalBytes: 10 });
    await put(store, 's', 'a.txt', '123456');
    const error = await rejection(put(store, 's', 'b.txt', '12345'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('session_files_too_large');
    expect(error.message).toContain('FILES_MAX_TOTAL_BYTES');
    expect(error.details).toMatchObject({ size: 5, total: 11, limit: 10 });
    await put(store, 's', 'b.txt', '1234');
    await put(store, 's', 'a.txt', '123456');
    expect((await store.list('s')).reduce((sum, file) => sum + file.size, 0)).toBe(10);
  });

  test('limits hold under concurrent commits: exactly the allowed number land', async () => {
    const store = storeWith({ maxCount: 3 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, index) => put(store, 's', `f${index}.txt`, 'x')),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    const refusals = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(refusals).toHaveLength(5);
    for (const refusal of refusals) {
      expect((refusal as PromiseRejectedResult).reason).toMatchObject({ code: 'too_many_files' });
    }
    expect(await store.list('s')).toHaveLength(3);
    expect(await leftoverUploads()).toEqual([]);
  });

  test('identifiers are isolated from each other and from the default session', async () => {
    const store = storeWith({ maxCount: 1 });
    await put(store, 'alice', 'data.csv', 'alice');
    await put(store, 'bob', 'data.csv', 'bob-data');
    await put(store, undefined, 'data.csv', 'default');
    await put(store, 'default', 'data.csv', 'named default');
    expect((await store.list('alice'))[0]?.size).toBe(5);
    expect((await store.list('bob'))[0]?.size).toBe(8);
    expect((await store.list(undefined))[0]?.size).toBe(7);
    expect((await store.list('default'))[0]?.size).toBe(13);
    expect(await store.list('carol')).toEqual([]);
    await store.remove('alice', 'data.csv');
    expect(await store.list('alice')).toEqual([]);
    expect(await store.list('bob')).toHaveLength(1);
  });

  test('an identifier of ".." stays inside the root folder', async () => {
    const store = storeWith();
    await put(store, '..', 'x.txt', 'x');
    expect(await readdir(path.dirname(root))).not.toContain('x.txt');
    expect((await store.list('..')).map((file) => file.name)).toEqual(['x.txt']);
    expect(await store.list(undefined)).toEqual([]);
  });

  test('missing files give 404 naming the file and listing what exists', async () => {
    const store = storeWith();
    await put(store, 's', 'present.txt', 'x');
    for (const attempt of [
      store.describe('s', 'absent.txt'),
      store.openForReading('s', 'absent.txt'),
      store.remove('s', 'absent.txt'),
    ]) {
      const error = await rejection(attempt);
      expect(error.status).toBe(404);
      expect(error.code).toBe('file_not_found');
      expect(error.message).toBe('no file "absent.txt" in session "s"; its files: present.txt');
      expect(error.details).toEqual({
        name: 'absent.txt',
        identifier: 's',
        files: ['present.txt'],
      });
    }
    const empty = await rejection(store.describe(undefined, 'x'));
    expect(empty.message).toBe('no file "x" in the default session; it has no files');
  });

  test('clear removes one session and leaves the others', async () => {
    const store = storeWith();
    await put(store, 'alice', 'a.txt', 'a');
    await put(store, 'bob', 'b.txt', 'b');
    await store.clear('alice');
    expect(await store.list('alice')).toEqual([]);
    expect(await store.list('bob')).toHaveLength(1);
    await store.clear('nobody'); // nothing stored: not an error
    await put(store, 'alice', 'again.txt', 'x');
    expect(await store.list('alice')).toHaveLength(1);
  });

  test('a reader holding a file sees the whole old version while it is replaced', async () => {
    const store = storeWith();
    const before = Buffer.alloc(200_000, 'a');
    const after = Buffer.alloc(150_000, 'b');
    await put(store, 's', 'big.txt', before);
    const { file, stream } = await store.openForReading('s', 'big.txt');
    await put(store, 's', 'big.txt', after);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(file.size).toBe(before.length);
    expect(Buffer.concat(chunks).equals(before)).toBe(true);
    const { stream: fresh } = await store.openForReading('s', 'big.txt');
    const freshChunks: Buffer[] = [];
    for await (const chunk of fresh) freshChunks.push(chunk as Buffer);
    expect(Buffer.concat(freshChunks).equals(after)).toBe(true);
  });
});

describe('FileStore.filesForExecution', () => {
  test('an empty session gives no files', async () => {
    expect(await storeWith().filesForExecution('nobody')).toEqual([]);
  });

  test('UTF-8 text goes as utf8, anything else as base64, byte for byte', async () => {
    const store = storeWith();
    const binary = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x80, 0x00, 0x42]);
    await put(store, 's', 'data.csv', 'name,city\nZoë,Zürich\n');
    await put(store, 's', 'nul.txt', 'a\u0000b'); // NUL is valid UTF-8
    await put(store, 's', 'blob.bin', binary);
    await put(store, 's', 'latin1.txt', Buffer.from('caf\xe9', 'latin1'));
    await put(store, 's', 'empty.txt', '');
    const files = await store.filesForExecution('s');
    expect(files).toEqual([
      { name: 'blob.bin', content: binary.toString('base64'), encoding: 'base64' },
      { name: 'data.csv', content: 'name,city\nZoë,Zürich\n', encoding: 'utf8' },
      { name: 'empty.txt', content: '', encoding: 'utf8' },
      { name: 'latin1.txt', content: 'Y2Fm6Q==', encoding: 'base64' },
      { name: 'nul.txt', content: 'a\u0000b', encoding: 'utf8' },
    ]);
    const blob = files.find((file) => file.name === 'blob.bin');
    expect(Buffer.from(blob?.content ?? '', 'base64').equals(binary)).toBe(true);
  });

  test('sessions only get their own files', async () => {
    const store = storeWith();
    await put(store, 'alice', 'a.txt', 'a');
    await put(store, 'bob', 'b.txt', 'b');
    expect((await store.filesForExecution('alice')).map((file) => file.name)).toEqual(['a.txt']);
    expect(await store.filesForExecution(undefined)).toEqual([]);
  });

  test('files too big for the engine are refused with 413 naming the largest', async () => {
    const store = storeWith({ executionBytesLimit: 1000 });
    await put(store, 's', 'small.txt', 'x'.repeat(100));
    await put(store, 's', 'huge.csv', 'y'.repeat(950));
    const error = await rejection(store.filesForExecution('s'));
    expect(error.status).toBe(413);
    expect(error.code).toBe('engine_body_limit');
    expect(error.message).toContain('huge.csv (950 bytes), small.txt (100 bytes)');
    expect(error.details).toEqual({
      size: 1050,
      limit: 1000,
      largest: [
        { name: 'huge.csv', bytes: 950 },
        { name: 'small.txt', bytes: 100 },
      ],
    });
    await store.remove('s', 'huge.csv');
    expect(await store.filesForExecution('s')).toHaveLength(1);
  });

  test('a file read for an execution is one whole version, never a mix', async () => {
    const store = storeWith();
    const versions = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(50_000));
    await put(store, 's', 'v.txt', versions[0] ?? '');
    const writes = Promise.all(versions.map((version) => put(store, 's', 'v.txt', version)));
    const reads = await Promise.all(Array.from({ length: 10 }, () => store.filesForExecution('s')));
    await writes;
    // Indexes, not contents, so a failure prints a number rather than 50 kB of letters.
    const versionOf = (content: string | undefined) => versions.indexOf(content ?? '');
    for (const files of reads) expect(versionOf(files[0]?.content)).not.toBe(-1);
    const final = await readFile(path.join(root, 'id-s', 'v.txt'), 'utf8');
    expect(versionOf(final)).not.toBe(-1);
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
