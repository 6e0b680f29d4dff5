import express from 'express';
import { stat as fsStat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { FileStore, type FileStoreOptions } from '../../adapter/files/fileStore';
import { errorResponder } from '../../adapter/http/errorHandling';
import { fileRoutes } from '../../adapter/http/routes/fileRoutes';
import { createLogger } from '../../adapter/logging/logger';
import { AdapterStats } from '../../adapter/stats/stats';
import { waitFor } from '../support/waitFor';

interface FilesApp {
  root: string;
  store: FileStore;
  server: http.Server;
  url: string;
}

const started: FilesApp[] = [];

/** The file routes behind the adapter's own error responder, on a port of their own. */
async function startFilesApp(limits: Partial<FileStoreOptions> = {}): Promise<FilesApp> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'psa-file-routes-'));
  const store = new FileStore({
    dir: root,
    maxFileBytes: 1024 * 1024,
    maxCount: 100,
    maxTotalBytes: 10 * 1024 * 1024,
    engineFilesystem: 'separate',
    engineBodyLimitBytes: 100 * 1024,
    ...limits,
  });
  const app = express();
  app.use(fileRoutes({ store }));
  app.use(errorResponder(createLogger('silent'), new AdapterStats(10)));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const files = { root, store, server, url: `http://127.0.0.1:${port}` };
  started.push(files);
  return files;
}

afterEach(async () => {
  for (const files of started.splice(0)) {
    files.server.closeAllConnections();
    await new Promise<void>((resolve) => files.server.close(() => resolve()));
    await rm(files.root, { recursive: true, force: true });
  }
});

interface Part {
  /** The whole Content-Disposition value, as the client writes it. */
  disposition: string;
  contentType?: string;
  content: string | Buffer;
}

const BOUNDARY = 'psa-test-boundary-7d1f3a';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

/** A multipart body written byte by byte, so each client's exact framing can be replayed. */
function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: ${part.disposition}\r\n`;
    if (part.contentType !== undefined) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.from(part.content), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** Python clients (httpx: Semantic Kernel, LangChain, LlamaIndex): quoted UTF-8 filename. */
function pythonStyle(
  filename: string,
  content: string | Buffer,
  contentType = 'application/octet-stream',
) {
  return multipart([
    { disposition: `form-data; name="file"; filename="${filename}"`, contentType, content },
  ]);
}

/** .NET MultipartFormDataContent (Semantic Kernel .NET): filename*, no part content type. */
function dotnetStyle(filename: string, content: string | Buffer) {
  const encoded = encodeURIComponent(filename);
  return multipart([
    {
      disposition: `form-data; name=file; filename="${filename}"; filename*=utf-8''${encoded}`,
      content,
    },
  ]);
}

function upload(files: FilesApp, route: string, body: Buffer) {
  return request(files.url).post(route).set('content-type', MULTIPART).send(body);
}

/** Reads a body as raw bytes whatever its content type (superagent decodes text types). */
function rawBytes(res: NodeJS.EventEmitter, done: (error: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

function download(files: FilesApp, route: string) {
  return request(files.url).get(route).buffer(true).parse(rawBytes);
}

const AZURE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** What the session folder holds on disk, the adapter's own upload folder aside. */
async function sessionFiles(files: FilesApp): Promise<string[]> {
  return (await readdir(files.root)).filter((name) => !name.startsWith('.upload-'));
}

async function leftoverUploads(files: FilesApp): Promise<string[]> {
  return (await readdir(files.root)).filter((name) => name.startsWith('.upload-'));
}

describe('generation A', () => {
  test('upload answers with the list envelope, $ids counted, and both generations keys', async () => {
    const files = await startFilesApp();
    const response = await upload(
      files,
      '/files/upload?identifier=abcd&api-version=2024-02-02-preview',
      pythonStyle('/mnt/data/a.txt', 'sixteen bytes!!\n', 'text/plain'),
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const stored = await fsStat(path.join(files.root, 'a.txt'));
    const time = stored.mtime.toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(response.body).toEqual({
      $id: '1',
      value: [
        {
          $id: '2',
          properties: { $id: '3', filename: 'a.txt', size: 16, lastModifiedTime: time },
          name: 'a.txt',
          type: 'File',
          contentType: 'text/plain',
          sizeInBytes: 16,
          lastModifiedAt: time,
        },
      ],
    });
    expect(time).toMatch(AZURE_TIME);
  });

  test('GET /files numbers $id through the list: 1, then 2/3, 4/5, 6/7', async () => {
    const files = await startFilesApp();
    for (const name of ['b.csv', 'a.txt', 'c.bin']) {
      expect((await upload(files, '/files/upload', pythonStyle(name, name))).status).toBe(200);
    }
    const response = await request(files.url).get('/files');
    expect(response.status).toBe(200);
    const body = response.body as { $id: string; value: Record<string, unknown>[] };
    expect(body.$id).toBe('1');
    expect(
      body.value.map((entry) => [
        entry['$id'],
        (entry['properties'] as Record<string, unknown>)['$id'],
        (entry['properties'] as Record<string, unknown>)['filename'],
        entry['name'],
        entry['contentType'],
      ]),
    ).toEqual([
      ['2', '3', 'a.txt', 'a.txt', 'text/plain'],
      ['4', '5', 'b.csv', 'b.csv', 'text/csv'],
      ['6', '7', 'c.bin', 'c.bin', 'application/octet-stream'],
    ]);
  });

  test('an empty session lists {"$id": "1", "value": []}', async () => {
    const files = await startFilesApp();
    const response = await request(files.url).get('/files?identifier=nobody');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ $id: '1', value: [] });
  });

  test('GET /files/{name} describes one file; /files/content/{name} returns its bytes', async () => {
    const files = await startFilesApp();
    await upload(
      files,
      '/files/upload?identifier=sess-1',
      pythonStyle('/mnt/data/data.csv', 'a,b\n1,2\n'),
    );
    const details = await request(files.url).get('/files/data.csv?identifier=sess-1');
    expect(details.status).toBe(200);
    expect(details.body).toEqual({
      $id: '1',
      properties: {
        $id: '2',
        filename: 'data.csv',
        size: 8,
        lastModifiedTime: expect.stringMatching(AZURE_TIME),
      },
      name: 'data.csv',
      type: 'File',
      contentType: 'text/csv',
      sizeInBytes: 8,
      lastModifiedAt: expect.stringMatching(AZURE_TIME),
    });
    const content = await download(files, '/files/content/data.csv?identifier=sess-1');
    expect(content.status).toBe(200);
    expect(content.headers['content-type']).toBe('text/csv');
    expect(content.headers['content-length']).toBe('8');
    expect((content.body as Buffer).toString('utf8')).toBe('a,b\n1,2\n');
  });

  test.each([
    ['escaped', `/files/content/${encodeURIComponent('/mnt/data/x.csv')}`],
    // LangChain quotes the name with "/" kept; Semantic Kernel Python does not quote at all.
    ['unescaped, as Python clients send it', '/files/content//mnt/data/x.csv'],
  ])('a name given with /mnt/data/ in the content path is found (%s)', async (_how, route) => {
    const files = await startFilesApp();
    await upload(files, '/files/upload', pythonStyle('x.csv', 'x'));
    const content = await download(files, route);
    expect(content.status).toBe(200);
    expect((content.body as Buffer).toString()).toBe('x');
  });

  test('a content path naming a subfolder is refused with 400, not an unknown route', async () => {
    const files = await startFilesApp();
    const response = await request(files.url).get('/files/content/sub/x.csv');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_file_name');
  });

  test('DELETE /files/{name} answers 204 and the file is gone', async () => {
    const files = await startFilesApp();
    await upload(files, '/files/upload?identifier=sess-1', pythonStyle('gone.txt', 'x'));
    const response = await request(files.url).delete('/files/gone.txt?identifier=sess-1');
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect(await sessionFiles(files)).toEqual([]);
    expect((await request(files.url).get('/files?identifier=sess-1')).body).toEqual({
      $id: '1',
      value: [],
    });
  });
});

describe('generation B', () => {
  test('POST /files answers with the flat file resource', async () => {
    const files = await startFilesApp();
    const response = await upload(
      files,
      '/files?identifier=gen-b&api-version=2024-10-02-preview',
      dotnetStyle('report.json', '{"ok":true}'),
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      name: 'report.json',
      type: 'File',
      contentType: 'application/json',
      sizeInBytes: 11,
      lastModifiedAt: expect.stringMatching(AZURE_TIME),
    });
  });

  test('GET /files entries carry what generation B reads', async () => {
    const files = await startFilesApp();
    await upload(files, '/files?identifier=gen-b', dotnetStyle('a.txt', 'hello'));
    const response = await request(files.url).get('/files?identifier=gen-b');
    const entry = (response.body as { value: Record<string, unknown>[] }).value[0];
    expect(entry).toMatchObject({
      name: 'a.txt',
      type: 'File',
      contentType: 'text/plain',
      sizeInBytes: 5,
      lastModifiedAt: expect.stringMatching(AZURE_TIME),
    });
  });

  test('GET /files/{name}/content returns the bytes; DELETE answers 204', async () => {
    const files = await startFilesApp();
    await upload(files, '/files?identifier=gen-b', dotnetStyle('/mnt/data/out.txt', 'result\n'));
    const content = await download(files, '/files/out.txt/content?identifier=gen-b');
    expect(content.status).toBe(200);
    expect(content.headers['content-type']).toBe('text/plain');
    expect((content.body as Buffer).toString()).toBe('result\n');
    // Semantic Kernel .NET escapes the name it was given, slashes included.
    const escaped = await download(
      files,
      `/files/${encodeURIComponent('/mnt/data/out.txt')}/content?identifier=gen-b`,
    );
    expect(escaped.status).toBe(200);
    const deleted = await request(files.url).delete('/files/out.txt?identifier=gen-b');
    expect(deleted.status).toBe(204);
    expect((await request(files.url).get('/files/out.txt/content?identifier=gen-b')).status).toBe(
      404,
    );
  });

  test('a file named "content" is reachable from both generations', async () => {
    const files = await startFilesApp();
    await upload(files, '/files', dotnetStyle('content', 'c'));
    // A's /files/content/{name} and B's /files/{name}/content are the same path here.
    const response = await download(files, '/files/content/content');
    expect(response.status).toBe(200);
    expect((response.body as Buffer).toString()).toBe('c');
    expect((await request(files.url).get('/files/content')).body).toMatchObject({
      name: 'content',
    });
  });
});

describe('uploads as each client sends them', () => {
  test.each([
    [
      'Semantic Kernel Python',
      pythonStyle('/mnt/data/sales.csv', 'q,n\n1,2\n', 'application/octet-stream'),
    ],
    ['LlamaIndex', pythonStyle('/mnt/data/sales.csv', 'q,n\n1,2\n', 'text/csv')],
    ['LangChain Python', pythonStyle('sales.csv', 'q,n\n1,2\n', 'application/octet-stream')],
    [
      'LangChain JS (FormData)',
      multipart([
        {
          disposition: 'form-data; name="file"; filename="sales.csv"',
          contentType: 'text/csv',
          content: 'q,n\n1,2\n',
        },
      ]),
    ],
    ['Semantic Kernel .NET', dotnetStyle('/mnt/data/sales.csv', 'q,n\n1,2\n')],
  ])('%s: stored as sales.csv', async (_client, body) => {
    const files = await startFilesApp();
    const response = await upload(files, '/files/upload?identifier=client', body);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      value: [{ properties: { filename: 'sales.csv', size: 8 } }],
    });
    expect(await sessionFiles(files)).toEqual(['sales.csv']);
    expect(await readFile(path.join(files.root, 'sales.csv'), 'utf8')).toBe('q,n\n1,2\n');
  });

  test('binary content with NUL bytes round-trips byte for byte', async () => {
    const files = await startFilesApp();
    const bytes = Buffer.alloc(70_000);
    for (let index = 0; index < bytes.length; index += 1) bytes[index] = (index * 7) % 256;
    // A CRLF and boundary-like text inside the file must not end the part.
    const tricky = Buffer.concat([bytes, Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}\r\n\u0000`)]);
    const response = await upload(files, '/files/upload', pythonStyle('blob.bin', tricky));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ value: [{ properties: { size: tricky.length } }] });
    const content = await download(files, '/files/content/blob.bin');
    expect(content.headers['content-type']).toBe('application/octet-stream');
    expect(content.headers['content-length']).toBe(String(tricky.length));
    expect((content.body as Buffer).equals(tricky)).toBe(true);
  });

  test('a UTF-8 filename arrives intact', async () => {
    const files = await startFilesApp();
    const response = await upload(files, '/files/upload', pythonStyle('données.csv', 'x'));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ value: [{ properties: { filename: 'données.csv' } }] });
    const content = await download(files, `/files/content/${encodeURIComponent('données.csv')}`);
    expect(content.status).toBe(200);
  });

  test('other fields beside "file" are ignored', async () => {
    const files = await startFilesApp();
    const body = multipart([
      { disposition: 'form-data; name="purpose"', content: 'assistants' },
      { disposition: 'form-data; name="file"; filename="a.txt"', content: 'a' },
    ]);
    const response = await upload(files, '/files/upload', body);
    expect(response.status).toBe(200);
    expect(await sessionFiles(files)).toEqual(['a.txt']);
  });

  test('uploading a name again replaces the file', async () => {
    const files = await startFilesApp();
    await upload(files, '/files/upload', pythonStyle('a.txt', 'first version'));
    await upload(files, '/files/upload', pythonStyle('/mnt/data/a.txt', 'second'));
    const list = await request(files.url).get('/files');
    expect(list.body).toMatchObject({ value: [{ properties: { filename: 'a.txt', size: 6 } }] });
    expect((list.body as { value: unknown[] }).value).toHaveLength(1);
  });
});

describe('bad uploads', () => {
  test('a body that is not multipart is refused with 415', async () => {
    const files = await startFilesApp();
    const json = await request(files.url).post('/files/upload').send({ file: 'x' });
    expect(json.status).toBe(415);
    expect(json.body.error).toMatchObject({ code: 'unsupported_media_type', source: 'adapter' });
    expect(json.body.error.message).toContain('multipart/form-data');
    const none = await request(files.url).post('/files');
    expect(none.status).toBe(415);
  });

  test('a multipart body without a "file" field is refused with 400 naming what came', async () => {
    const files = await startFilesApp();
    const textOnly = await upload(
      files,
      '/files/upload',
      multipart([{ disposition: 'form-data; name="file"', content: 'just text' }]),
    );
    expect(textOnly.status).toBe(400);
    expect(textOnly.body.error).toMatchObject({
      code: 'missing_file',
      field: 'file',
      received: [],
    });
    const wrongField = await upload(
      files,
      '/files',
      multipart([{ disposition: 'form-data; name="upload"; filename="a.txt"', content: 'a' }]),
    );
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error.message).toContain('file fields received: upload');
    expect(await sessionFiles(files)).toEqual([]);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('two files in one upload are refused with 400 and neither is kept', async () => {
    const files = await startFilesApp();
    const body = multipart([
      { disposition: 'form-data; name="file"; filename="a.txt"', content: 'a' },
      { disposition: 'form-data; name="file"; filename="b.txt"', content: 'b' },
    ]);
    const response = await upload(files, '/files/upload', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('one_file_per_upload');
    expect(await sessionFiles(files)).toEqual([]);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('a malformed multipart body is refused with 400', async () => {
    const files = await startFilesApp();
    const noBoundary = await request(files.url)
      .post('/files/upload')
      .set('content-type', 'multipart/form-data')
      .send('x');
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body.error.code).toBe('invalid_multipart');
    const body = pythonStyle('cut.txt', 'x'.repeat(1000));
    const truncated = await upload(files, '/files/upload', body.subarray(0, body.length - 30));
    expect(truncated.status).toBe(400);
    expect(truncated.body.error.code).toBe('invalid_multipart');
    expect(await sessionFiles(files)).toEqual([]);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test.each([
    ['../escape.txt'],
    ['/mnt/data/../escape.txt'],
    ['/etc/passwd'],
    ['..\\escape.txt'],
    ['a\\b.txt'],
    ['.hidden'],
    [''],
    ['/mnt/data/'],
    ['sub/dir.txt'],
    ['tab\there.txt'],
    ['x'.repeat(256)],
  ])('upload filename %j is refused with 400 and nothing is written', async (filename) => {
    const files = await startFilesApp();
    const response = await upload(files, '/files/upload', pythonStyle(filename, 'x'));
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: 'invalid_file_name',
      // busboy reports filename="" as no filename at all
      name: filename === '' ? null : filename,
    });
    expect(await readdir(files.root)).toEqual(
      expect.not.arrayContaining(['escape.txt', 'default']),
    );
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('a control character in an encoded filename* is refused too', async () => {
    const files = await startFilesApp();
    const body = multipart([
      { disposition: "form-data; name=file; filename*=utf-8''a%01b.txt", content: 'x' },
    ]);
    const response = await upload(files, '/files', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_file_name');
  });

  test.each([
    ['GET', '/files/content/..%2Fescape.txt'],
    ['GET', '/files/%2Fetc%2Fpasswd'],
    ['GET', '/files/.hidden/content'],
    ['DELETE', '/files/..'],
    ['DELETE', '/files/a%5Cb'],
    ['GET', '/files/content/a%00b'],
  ])('%s %s is refused with 400', async (method, route) => {
    const files = await startFilesApp();
    const response = await request(files.url)[method === 'GET' ? 'get' : 'delete'](route);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_file_name');
  });
});

describe('limits', () => {
  test('a file at the size limit is stored; one byte over gives 413 and leaves nothing', async () => {
    const files = await startFilesApp({ maxFileBytes: 1000 });
    const atLimit = await upload(
      files,
      '/files/upload',
      pythonStyle('fits.bin', Buffer.alloc(1000, 1)),
    );
    expect(atLimit.status).toBe(200);
    const over = await upload(
      files,
      '/files/upload',
      pythonStyle('over.bin', Buffer.alloc(1001, 1)),
    );
    expect(over.status).toBe(413);
    expect(over.body.error).toMatchObject({
      code: 'file_too_large',
      name: 'over.bin',
      limit: 1000,
      setting: 'FILE_MAX_BYTES',
    });
    expect(over.body.error.message).toContain('1000 bytes');
    expect(await sessionFiles(files)).toEqual(['fits.bin']);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('a far larger file is refused without being kept in memory or on disk', async () => {
    const files = await startFilesApp({ maxFileBytes: 64 * 1024 });
    const response = await upload(
      files,
      '/files',
      dotnetStyle('huge.bin', Buffer.alloc(5 * 1024 * 1024)),
    );
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('file_too_large');
    expect(await sessionFiles(files)).toEqual([]);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('the count limit gives 413 naming FILES_MAX_COUNT', async () => {
    const files = await startFilesApp({ maxCount: 2 });
    expect((await upload(files, '/files/upload', pythonStyle('a.txt', 'a'))).status).toBe(200);
    expect((await upload(files, '/files/upload', pythonStyle('b.txt', 'b'))).status).toBe(200);
    const third = await upload(files, '/files/upload', pythonStyle('c.txt', 'c'));
    expect(third.status).toBe(413);
    expect(third.body.error).toMatchObject({
      code: 'too_many_files',
      limit: 2,
      setting: 'FILES_MAX_COUNT',
    });
    // Replacing is not adding.
    expect((await upload(files, '/files/upload', pythonStyle('a.txt', 'A'))).status).toBe(200);
    expect((await sessionFiles(files)).sort()).toEqual(['a.txt', 'b.txt']);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('the total limit gives 413 naming FILES_MAX_TOTAL_BYTES', async () => {
    const files = await startFilesApp({ maxTotalBytes: 100 });
    expect((await upload(files, '/files', dotnetStyle('a.bin', Buffer.alloc(60)))).status).toBe(
      200,
    );
    const second = await upload(files, '/files', dotnetStyle('b.bin', Buffer.alloc(41)));
    expect(second.status).toBe(413);
    expect(second.body.error).toMatchObject({
      code: 'session_files_too_large',
      size: 41,
      total: 101,
      limit: 100,
      setting: 'FILES_MAX_TOTAL_BYTES',
    });
    expect((await upload(files, '/files', dotnetStyle('b.bin', Buffer.alloc(40)))).status).toBe(
      200,
    );
    expect(await leftoverUploads(files)).toEqual([]);
  });
});

describe('sessions and concurrency', () => {
  test('another identifier gets 409 on every file route while the session holds files', async () => {
    const files = await startFilesApp();
    await upload(files, '/files/upload?identifier=alice', pythonStyle('secret.txt', 'alice only'));
    for (const query of ['?identifier=bobb', '?identifier=alice2']) {
      const answers = await Promise.all([
        request(files.url).get(`/files${query}`),
        request(files.url).get(`/files/secret.txt${query}`),
        request(files.url).get(`/files/content/secret.txt${query}`),
        request(files.url).get(`/files/secret.txt/content${query}`),
        request(files.url).delete(`/files/secret.txt${query}`),
        upload(files, `/files/upload${query}`, pythonStyle('secret.txt', 'overwrite')),
        upload(files, `/files${query}`, dotnetStyle('other.txt', 'x')),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(409);
        expect(answer.body.error.code).toBe('session_belongs_to_another_identifier');
        expect(JSON.stringify(answer.body)).not.toMatch(/alice\b|secret/);
      }
    }
    const own = await download(files, '/files/content/secret.txt?identifier=alice');
    expect((own.body as Buffer).toString()).toBe('alice only');
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('odd identifiers get 400 naming the rule on every file route, and touch nothing', async () => {
    const files = await startFilesApp();
    await upload(files, '/files/upload', pythonStyle('kept.txt', 'kept'));
    const odd = [
      'identifier=',
      'identifier=abc',
      `identifier=${'a'.repeat(129)}`,
      'identifier=user_1',
      'identifier=%01abcd',
      'identifier=abcd&identifier=abcd',
      'identifier=abcd&identifier=efgh',
    ];
    for (const query of odd) {
      const answers = await Promise.all([
        request(files.url).get(`/files?${query}`),
        request(files.url).get(`/files/kept.txt?${query}`),
        request(files.url).get(`/files/content/kept.txt?${query}`),
        request(files.url).delete(`/files/kept.txt?${query}`),
        upload(files, `/files/upload?${query}`, pythonStyle('new.txt', 'x')),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(400);
        expect(answer.body.error.code).toBe('invalid_identifier');
        expect(answer.body.error.rule).toContain('4 to 128 characters');
      }
    }
    expect(await sessionFiles(files)).toEqual(['kept.txt']);
  });

  test('missing files give 404 naming the file and listing what exists', async () => {
    const files = await startFilesApp();
    await upload(files, '/files/upload?identifier=sess', pythonStyle('present.csv', 'x'));
    for (const [method, route] of [
      ['get', '/files/content/absent.csv?identifier=sess'],
      ['get', '/files/absent.csv/content?identifier=sess'],
      ['get', '/files/absent.csv?identifier=sess'],
      ['delete', '/files/absent.csv?identifier=sess'],
    ] as const) {
      const response = await request(files.url)[method](route);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body.error).toEqual({
        code: 'file_not_found',
        message: 'no file "absent.csv" in session "sess"; its files: present.csv',
        source: 'adapter',
        name: 'absent.csv',
        identifier: 'sess',
        files: ['present.csv'],
      });
    }
  });

  test('concurrent uploads of one name all succeed and leave exactly one whole version', async () => {
    // Shared: files too large to travel with executions are stored (code reads them in place).
    const files = await startFilesApp({ engineFilesystem: 'shared' });
    const versions = ['a', 'b', 'c', 'd', 'e', 'f'].map((letter) => Buffer.alloc(300_000, letter));
    const uploads = versions.map((version) =>
      upload(files, '/files/upload?identifier=race', pythonStyle('same.txt', version)),
    );
    // Read while the uploads land: every answer is a 404 or one complete version.
    const reads: Promise<request.Response>[] = [];
    for (let index = 0; index < 12; index += 1) {
      reads.push(download(files, '/files/content/same.txt?identifier=race'));
    }
    const responses = await Promise.all(uploads);
    expect(responses.map((response) => response.status)).toEqual(versions.map(() => 200));
    const versionOf = (body: Buffer) => versions.findIndex((version) => version.equals(body));
    for (const read of await Promise.all(reads)) {
      if (read.status === 404) continue;
      expect(read.status).toBe(200);
      expect(versionOf(read.body as Buffer)).not.toBe(-1);
    }
    const final = await download(files, '/files/content/same.txt?identifier=race');
    expect(versionOf(final.body as Buffer)).not.toBe(-1);
    expect(await sessionFiles(files)).toEqual(['same.txt']);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('concurrent uploads of different names cannot overshoot the count limit', async () => {
    const files = await startFilesApp({ maxCount: 3 });
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        upload(files, '/files', dotnetStyle(`f${index}.txt`, 'x'.repeat(10_000))),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 200, 413, 413, 413, 413, 413]);
    expect(await sessionFiles(files)).toHaveLength(3);
    expect(await leftoverUploads(files)).toEqual([]);
  });

  test('an upload the client abandons leaves nothing behind', async () => {
    const files = await startFilesApp();
    const head = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="partial.bin"\r\n\r\n`,
    );
    const clientRequest = http.request(`${files.url}/files/upload`, {
      method: 'POST',
      headers: { 'content-type': MULTIPART, 'content-length': String(10 * 1024 * 1024) },
    });
    clientRequest.on('error', () => undefined); // the abort below is the point
    clientRequest.write(head);
    clientRequest.write(Buffer.alloc(256 * 1024, 7));
    await waitFor(async () => (await leftoverUploads(files)).length === 1, {
      what: 'the upload to start writing',
    });
    clientRequest.destroy();
    await waitFor(async () => (await leftoverUploads(files)).length === 0, {
      what: 'the partial upload to be removed',
    });
    expect(await sessionFiles(files)).toEqual([]);
  });

  test('uploaded files reach executions base64 (nothing compiles them), the owner only', async () => {
    const files = await startFilesApp();
    await upload(
      files,
      '/files/upload?identifier=exec',
      pythonStyle('/mnt/data/data.csv', 'a,b\n1,2\n'),
    );
    await upload(
      files,
      '/files/upload?identifier=exec',
      pythonStyle('img.png', Buffer.from([0x89, 0x50, 0x00, 0xff])),
    );
    expect(await files.store.filesForExecution('exec')).toEqual([
      {
        name: 'data.csv',
        content: Buffer.from('a,b\n1,2\n').toString('base64'),
        encoding: 'base64',
      },
      {
        name: 'img.png',
        content: Buffer.from([0x89, 0x50, 0x00, 0xff]).toString('base64'),
        encoding: 'base64',
      },
    ]);
    await expect(files.store.filesForExecution('someone-else')).rejects.toMatchObject({
      status: 409,
    });
    await files.store.clear('exec');
    expect((await request(files.url).get('/files?identifier=someone-else')).body).toEqual({
      $id: '1',
      value: [],
    });
  });
});
