import request from 'supertest';
import { PYTHON_SUCCESS, startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { buildTestApp, type TestApp } from '../support/testApp';

let engine: FakeEngine;
let adapter: TestApp;

const success = PYTHON_SUCCESS;

beforeEach(async () => {
  engine = await startFakeEngine();
  engine.executeReplies = [success];
  // The fake engine runs no Python, so the result runner (tested with real Python in
  // test/unit/pythonRunner.test.ts and test/e2e) stays off here.
  adapter = buildTestApp(engine.url, { PYTHON_RESULT: 'false', EXECUTIONS_KEPT: '2' });
});
afterEach(async () => {
  await adapter.close();
  await engine.close();
});

const generationB = (code: string) => ({
  codeInputType: 'Inline',
  executionType: 'Synchronous',
  code,
});

describe('POST /executions (generation B)', () => {
  it('answers in its own shape, every key present', async () => {
    const response = await request(adapter.app)
      .post('/executions?identifier=sess-1&api-version=2024-10-02-preview')
      .send(generationB('print("out")'));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      identifier: 'sess-1',
      executionType: 'Synchronous',
      status: 'Succeeded',
      result: { stdout: 'out\n', stderr: '', executionResult: '' },
    });
    expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof response.body.result.executionTimeInMilliseconds).toBe('number');
    expect(engine.sentExecutions()[0]?.language).toBe('python');
  });

  it('a failed run answers Failed', async () => {
    engine.executeReplies = [
      {
        status: 200,
        body: {
          language: 'python',
          version: '3.12.0',
          run: { stdout: '', stderr: 'boom\n', output: 'boom\n', code: 1, signal: null },
        },
      },
    ];
    const response = await request(adapter.app).post('/executions').send(generationB('x'));
    expect(response.body.status).toBe('Failed');
    expect(response.body.identifier).toBe('');
    expect(response.body.result.stderr).toBe('boom\n');
  });

  it('keeps only the most recent executions (EXECUTIONS_KEPT)', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await request(adapter.app)
        .post('/executions?identifier=keep')
        .send(generationB(`print(${index})`));
      ids.push(response.body.id as string);
    }
    const oldest = await request(adapter.app).get(`/executions/${ids[0]}?identifier=keep`);
    expect(oldest.status).toBe(404);
    expect(oldest.body.error.code).toBe('execution_not_found');
    const newest = await request(adapter.app).get(`/executions/${ids[2]}?identifier=keep`);
    expect(newest.status).toBe(200);
    expect(newest.body.id).toBe(ids[2]);
  });

  it.each([
    ['missing code', { codeInputType: 'Inline' }, 'code'],
    ['code of the wrong type', { code: 42 }, 'code'],
    ['an unknown executionType', { code: 'x', executionType: 'Asynchronous' }, 'executionType'],
    ['an array body', [1, 2], null],
  ])('%s: 400 naming the field', async (_case, body, field) => {
    const response = await request(adapter.app).post('/executions').send(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    if (field !== null) expect(response.body.error.field).toBe(field);
    expect(engine.sentExecutions()).toHaveLength(0);
  });

  it('invalid JSON: 400 JSON error, nothing sent to the engine', async () => {
    const response = await request(adapter.app)
      .post('/executions')
      .set('content-type', 'application/json')
      .send('{"code": ');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_json');
    expect(engine.sentExecutions()).toHaveLength(0);
  });

  it('GET /executions/{id} of an unknown id: 404 JSON', async () => {
    const response = await request(adapter.app).get('/executions/no-such-id');
    expect(response.status).toBe(404);
    expect(response.body.error.source).toBe('adapter');
  });
});

describe('session files reach an engine that cannot see them (separate mode)', () => {
  it('an upload is sent base64 beside the code in the next execution, the code first', async () => {
    await request(adapter.app)
      .post('/files/upload?identifier=files-1')
      .attach('file', Buffer.from('a,b\n'), 'data.csv')
      .expect(200);
    await request(adapter.app)
      .post('/code/execute?identifier=files-1')
      .send({ properties: { code: 'print(1)' } })
      .expect(200);
    const files = engine.sentExecutions()[0]?.files ?? [];
    expect(files.map((file) => file.name)).toEqual(['main.py', 'data.csv']);
    // base64, so a compile stage that takes every utf8 file never sees it
    expect(files[1]).toMatchObject({ encoding: 'base64', content: 'YSxiCg==' });
  });

  it("another identifier gets 409 while the container's session holds files, and never its data", async () => {
    await request(adapter.app)
      .post('/files/upload?identifier=files-a')
      .attach('file', Buffer.from('secret'), 'a.txt')
      .expect(200);
    const attempts = [
      request(adapter.app)
        .post('/code/execute?identifier=files-b')
        .send({ properties: { code: 'print(1)' } }),
      request(adapter.app).get('/files?identifier=files-b'),
      request(adapter.app).get('/files/content/a.txt?identifier=files-b'),
      request(adapter.app)
        .post('/files/upload?identifier=files-b')
        .attach('file', Buffer.from('x'), 'b.txt'),
      request(adapter.app).delete('/session?identifier=files-b'),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('session_belongs_to_another_identifier');
      expect(JSON.stringify(response.body)).not.toContain('files-a');
      expect(JSON.stringify(response.body)).not.toContain('secret');
    }
    expect(engine.sentExecutions()).toHaveLength(0);
    const owner = await request(adapter.app).get('/files?identifier=files-a');
    expect(owner.body.value.map((file: { name: string }) => file.name)).toEqual(['a.txt']);
  });

  it("the owner's DELETE /session frees the container for another identifier", async () => {
    const agent = request(adapter.app);
    await agent.post('/files/upload?identifier=first').attach('file', Buffer.from('1'), 'a.txt');
    expect((await agent.get('/files?identifier=second')).status).toBe(409);
    expect((await agent.delete('/session?identifier=first')).body.filesRemoved).toBe(1);
    await agent
      .post('/files/upload?identifier=second')
      .attach('file', Buffer.from('2'), 'b.txt')
      .expect(200);
    expect((await agent.get('/files?identifier=first')).status).toBe(409);
  });

  it('executions without files work for any identifier while the folder is empty', async () => {
    for (const identifier of ['grader-1', 'grader-2', 'grader-3']) {
      await request(adapter.app)
        .post(`/code/execute?identifier=${identifier}`)
        .send({ properties: { code: 'print(1)' } })
        .expect(200);
    }
    expect(engine.sentExecutions()).toHaveLength(3);
  });

  it('a request without identifier acts on the container session whoever owns it', async () => {
    await request(adapter.app)
      .post('/files/upload?identifier=owner-1')
      .attach('file', Buffer.from('1'), 'a.txt')
      .expect(200);
    const none = await request(adapter.app).get('/files');
    expect(none.body.value).toHaveLength(1);
  });

  it("an upload that would push the session past the engine's body: 413 at upload time", async () => {
    const response = await request(adapter.app)
      .post('/files/upload?identifier=big1')
      .attach('file', Buffer.alloc(80 * 1024, 'x'), 'huge.txt');
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({
      code: 'upload_exceeds_engine_body',
      setting: 'ENGINE_BODY_LIMIT_BYTES',
      limit: 100 * 1024,
    });
    expect(response.body.error.message).toContain('huge.txt');
    expect((await request(adapter.app).get('/files?identifier=big1')).body.value).toEqual([]);
  });
});

describe('GET|DELETE /session, GET /listSessions, GET /metadata', () => {
  it("DELETE /session clears the session's files and that identifier's kept executions", async () => {
    const agent = request(adapter.app);
    await agent.post('/files/upload?identifier=sess-1').attach('file', Buffer.from('1'), 'a.txt');
    const run = await agent.post('/executions?identifier=sess-1').send(generationB('x'));
    const other = await agent.post('/executions').send(generationB('y'));

    const deleted = await agent.delete('/session?identifier=sess-1');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({
      identifier: 'sess-1',
      deleted: true,
      filesRemoved: 1,
      executionsRemoved: 1,
    });
    expect((await agent.get('/files?identifier=sess-1')).body.value).toEqual([]);
    expect((await agent.get(`/executions/${run.body.id}?identifier=sess-1`)).status).toBe(404);
    expect((await agent.get(`/executions/${other.body.id}`)).status).toBe(200);
  });

  it('DELETE /session twice, or with no identifier, still answers 200', async () => {
    const agent = request(adapter.app);
    expect((await agent.delete('/session?identifier=never-used')).status).toBe(200);
    expect((await agent.delete('/session?identifier=never-used')).status).toBe(200);
    expect((await agent.delete('/session')).body.identifier).toBeNull();
  });

  it('GET /session describes files and state', async () => {
    const agent = request(adapter.app);
    await agent.post('/files/upload?identifier=desc').attach('file', Buffer.from('abc'), 'a.txt');
    const response = await agent.get('/session?identifier=desc');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      identifier: 'desc',
      status: 'Running',
      files: { count: 1, totalBytes: 3 },
    });
  });

  it('GET /listSessions lists identifiers seen, most recent first', async () => {
    const agent = request(adapter.app);
    await agent.get('/session?identifier=first');
    await agent.get('/session?identifier=second');
    const response = await agent.get('/listSessions');
    expect(response.status).toBe(200);
    const identifiers = (response.body.value as { identifier: string }[]).map((s) => s.identifier);
    expect(identifiers.indexOf('second')).toBeLessThan(identifiers.indexOf('first'));
  });

  it('GET /metadata names the adapter, languages and limits, from the first request on', async () => {
    const response = await request(adapter.app).get('/metadata');
    expect(response.status).toBe(200);
    expect(response.body.name).toBe('piston-session-adapter');
    expect(response.body.limits.maxTimeoutSeconds).toBe(220);
    expect(response.body.languages.length).toBeGreaterThan(0);
  });

  it.each([
    ['POST', '/session'],
    ['PUT', '/metadata'],
    ['DELETE', '/listSessions'],
  ])('%s %s: 405 JSON', async (method, path) => {
    const agent = request(adapter.app);
    const response = await agent[method.toLowerCase() as 'post'](path);
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('method_not_allowed');
  });
});

describe('the Python result runner and the engine body limit', () => {
  it('wraps Python code by default, and sends code that fits only unwrapped as it is', async () => {
    const wrapping = buildTestApp(engine.url, { PYTHON_RESULT: 'true' });
    try {
      await request(wrapping.app)
        .post('/code/execute')
        .send({ properties: { code: 'print(1)' } })
        .expect(200);
      const big = `# ${'x'.repeat(98 * 1024)}\nprint(2)`;
      await request(wrapping.app)
        .post('/code/execute')
        .send({ properties: { code: big } })
        .expect(200);
      const [small, large] = engine.sentExecutions();
      expect(small?.files[0]?.name).toBe('.session_runner.py');
      expect(large?.files[0]).toEqual({ name: 'main.py', content: big });
    } finally {
      await wrapping.close();
    }
  });
});
