import fsPromises from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { PYTHON_SUCCESS, startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { buildTestApp, type TestApp } from '../support/testApp';
import { waitFor } from '../support/waitFor';

/**
 * The app in shared mode against a fake engine (it runs no code: what "code wrote" is put in
 * the folder by the test, which the adapter cannot tell apart). Real code on a real engine
 * is in sessionFilesProcess.test.ts.
 */

let engine: FakeEngine;
let adapter: TestApp;

const success = PYTHON_SUCCESS;

function start(env: Record<string, string> = {}) {
  adapter = buildTestApp(engine.url, {
    PYTHON_RESULT: 'false',
    ENGINE_FILESYSTEM: 'shared',
    ...env,
  });
  return adapter;
}

beforeEach(async () => {
  engine = await startFakeEngine();
  engine.executeReplies = [success];
});
afterEach(async () => {
  jest.restoreAllMocks();
  await adapter.close();
  await engine.close();
});

const execute = (identifier: string) =>
  request(adapter.app)
    .post(`/code/execute?identifier=${identifier}`)
    .send({ properties: { code: 'print(1)' } });

test("shared mode: a session far past the engine's body limit runs; nothing of it is sent", async () => {
  start();
  for (const name of ['a.bin', 'b.bin', 'c.bin']) {
    await request(adapter.app)
      .post('/files/upload?identifier=owner-1')
      .attach('file', Buffer.alloc(300 * 1024, 7), name)
      .expect(200);
  }
  const response = await execute('owner-1');
  expect(response.status).toBe(200);
  expect(engine.sentExecutions()[0]?.files.map((file) => file.name)).toEqual(['main.py']);
});

test('code that wrote past FILES_MAX_TOTAL_BYTES: the answer says so, uploads are refused', async () => {
  start({ FILES_MAX_TOTAL_BYTES: '1000', FILE_MAX_BYTES: '1000' });
  await writeFile(path.join(adapter.config.files.dir, 'out.bin'), Buffer.alloc(1500));
  const response = await execute('writer-1');
  expect(response.status).toBe(200);
  expect(response.body.properties.stdout).toBe('out\n');
  expect(response.body.sessionFiles).toMatchObject({
    overLimit: true,
    totalBytes: 1500,
    limit: 1000,
    setting: 'FILES_MAX_TOTAL_BYTES',
  });
  const upload = await request(adapter.app)
    .post('/files/upload?identifier=writer-1')
    .attach('file', Buffer.from('x'), 'x.txt');
  expect(upload.status).toBe(413);
  expect(upload.body.error.code).toBe('session_files_too_large');
  // The writer owns what its code left.
  expect((await execute('other-1')).status).toBe(409);
  await request(adapter.app).delete('/session?identifier=writer-1').expect(200);
  const after = await execute('other-1');
  expect(after.status).toBe(200);
  expect(after.body.sessionFiles).toBeUndefined();
});

test('GET /listSessions, /health and GET / do no file-system work', async () => {
  start();
  for (let index = 0; index < 20; index += 1) {
    await request(adapter.app).get(`/session?identifier=seen-${index}`).expect(200);
  }
  await request(adapter.app)
    .post('/files/upload?identifier=seen-3')
    .attach('file', Buffer.from('abc'), 'a.txt')
    .expect(200);
  const calls = ['opendir', 'readdir', 'lstat', 'stat', 'open'].map((name) =>
    jest.spyOn(fsPromises, name as 'stat'),
  );
  const listed = await request(adapter.app).get('/listSessions').expect(200);
  await request(adapter.app).get('/health');
  await request(adapter.app).get('/').expect(200);
  for (const call of calls) expect(call).not.toHaveBeenCalled();
  // The spies do see the store's work: listing the one session reads its folder.
  await request(adapter.app).get('/files?identifier=seen-3').expect(200);
  expect(calls[0]).toHaveBeenCalled();
  const owner = (listed.body.value as { identifier: string; files: unknown }[]).find(
    (session) => session.identifier === 'seen-3',
  );
  expect(owner?.files).toEqual({ holdsFiles: true, totalBytes: 3 });
});

const ROUTES: [string, string][] = [
  ['post', '/code/execute'],
  ['post', '/execute'],
  ['post', '/python/execute'],
  ['post', '/executions'],
  ['get', '/executions/some-id'],
  ['post', '/files/upload'],
  ['post', '/files'],
  ['get', '/files'],
  ['get', '/files/content/a.txt'],
  ['get', '/files/a.txt/content'],
  ['get', '/files/a.txt'],
  ['delete', '/files/a.txt'],
  ['get', '/session'],
  ['delete', '/session'],
  ['get', '/listSessions'],
  ['get', '/metadata'],
  ['get', '/health'],
  ['get', '/runtimes'],
  ['get', '/'],
  ['get', '/api/v2/runtimes'],
];

test.each([
  ['empty', 'identifier='],
  ['too short', 'identifier=abc'],
  ['too long', `identifier=${'x'.repeat(129)}`],
  ['a control character', 'identifier=ab%0Acd'],
  ['outside the set', 'identifier=user_name'],
  ['given twice', 'identifier=abcd&identifier=abcd'],
])('an identifier %s gets 400 naming the rule on every route', async (_what, query) => {
  start();
  for (const [method, route] of ROUTES) {
    const response = await (
      request(adapter.app) as unknown as Record<string, (url: string) => request.Test>
    )[method]!(`${route}?${query}`).send({ properties: { code: 'print(1)' } });
    expect([method, route, response.status]).toEqual([method, route, 400]);
    expect(response.body.error).toMatchObject({ code: 'invalid_identifier', source: 'adapter' });
    expect(response.body.error.message).toContain('4 to 128 characters');
  }
  expect(engine.sentExecutions()).toHaveLength(0);
});

test('an identifier in the body (LlamaIndex) passes the same rule', async () => {
  start();
  const response = await request(adapter.app)
    .post('/python/execute')
    .send({ properties: { identifier: 'ab', pythonCode: 'print(1)' } });
  expect(response.status).toBe(400);
  expect(response.body.error.code).toBe('invalid_identifier');
});

test("Piston's own API reaches the session folder too: the same 409, the same stock-taking after", async () => {
  start();
  await request(adapter.app)
    .post('/files/upload?identifier=owner-1')
    .attach('file', Buffer.from('mine'), 'mine.txt')
    .expect(200);
  const job = { language: 'bash', version: '*', files: [{ content: 'cat mine.txt' }] };
  const refused = await request(adapter.app).post('/api/v2/execute?identifier=other-1').send(job);
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('session_belongs_to_another_identifier');
  expect(engine.sentExecutions()).toEqual([]);

  // What a job through /api/v2 writes is made usable by the next job's uid, as for any job.
  const written = path.join(adapter.config.files.dir, 'written.txt');
  await writeFile(written, 'x', { mode: 0o600 });
  const ran = await request(adapter.app).post('/api/v2/execute?identifier=owner-1').send(job);
  expect(ran.status).toBe(200);
  await waitFor(async () => ((await fsPromises.stat(written)).mode & 0o777) === 0o666, {
    what: 'the written file to be made 0666',
  });
  expect((await fsPromises.stat(written)).mode & 0o777).toBe(0o666);
});
