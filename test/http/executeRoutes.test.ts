import request from 'supertest';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { loadFixture } from '../support/fixtures';
import { buildTestApp, type TestApp } from '../support/testApp';

let engine: FakeEngine;
let adapter: TestApp;

beforeEach(async () => {
  engine = await startFakeEngine();
  // These tests check the Piston job built from each request; the Python result runner that
  // wraps code by default has its own tests (test/unit/pythonRunner.test.ts, test/e2e).
  adapter = buildTestApp(engine.url, { PYTHON_RESULT: 'false' });
});
afterEach(async () => {
  await adapter.close();
  await engine.close();
});

describe('POST /:lang/execute', () => {
  test('runs code and answers in Azure shape with every key present', async () => {
    const response = await request(adapter.app)
      .post('/python/execute?identifier=abc123&api-version=2024-02-02-preview')
      .send({
        properties: {
          codeInputType: 'inline',
          executionType: 'synchronous',
          code: 'print("Hello, World!")',
        },
      });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.body).toEqual({
      $id: '1',
      properties: {
        $id: '2',
        status: 'Success',
        stdout: 'Hello, World!\n',
        stderr: '',
        result: '',
        executionTimeInMilliseconds: expect.any(Number),
        exitCode: 0,
        signal: null,
        language: 'python',
        version: '3.11.2',
        compile: null,
        stopReason: null,
        stopMessage: null,
        resultNote: null,
      },
      status: 'Success',
      stdout: 'Hello, World!\n',
      stderr: '',
      result: '',
    });
    expect(engine.sentExecutions()[0]).toEqual({
      language: 'python',
      version: '3.11.2',
      files: [{ name: 'main.py', content: 'print("Hello, World!")' }],
      run_timeout: adapter.config.defaultTimeoutSeconds * 1000,
    });
  });

  test.each([
    ['py', 'python'],
    ['python3', 'python'],
    ['js', 'javascript'],
    ['node-js', 'javascript'],
    ['c++', 'c++'],
    ['cpp', 'c++'],
    ['gcc', 'c'],
    ['sh', 'bash'],
    ['PYTHON', 'python'],
  ])('alias %s resolves to %s', async (alias, language) => {
    const response = await request(adapter.app)
      .post(`/${encodeURIComponent(alias)}/execute`)
      .send({ properties: { code: 'x' } });
    expect(response.status).toBe(200);
    expect(engine.sentExecutions()[0]?.language).toBe(language);
  });

  test('default version is the newest installed; a semver selector picks among them', async () => {
    engine.runtimes = [
      { language: 'python', version: '3.9.4', aliases: ['py'] },
      { language: 'python', version: '3.12.0', aliases: ['py'] },
      { language: 'python', version: '3.10.0', aliases: ['py'] },
    ];
    await request(adapter.app)
      .post('/py/execute')
      .send({ properties: { code: '1' } })
      .expect(200);
    await request(adapter.app)
      .post('/py/execute')
      .send({ properties: { code: '1', version: '3.10.x' } })
      .expect(200);
    await request(adapter.app)
      .post('/py/execute')
      .send({ properties: { code: '1', version: '3.9.4' } })
      .expect(200);
    expect(engine.sentExecutions().map((r) => r.version)).toEqual(['3.12.0', '3.10.0', '3.9.4']);
  });

  test('an unknown version answers 404 listing the installed ones', async () => {
    const response = await request(adapter.app)
      .post('/python/execute')
      .send({ properties: { code: '1', version: '2.7' } });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'unknown_version', available: ['3.11.2'] });
  });

  test('an unknown language answers 404 listing the available languages', async () => {
    const response = await request(adapter.app)
      .post('/brainfork/execute')
      .send({ properties: { code: '1' } });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('unknown_language');
    expect(response.body.error.available).toEqual(['bash', 'c', 'c++', 'javascript', 'python']);
    expect(response.body.error.message).toContain('brainfork');
    expect(engine.sentExecutions()).toHaveLength(0);
  });

  test('a language installed after the first lookup is found by refreshing on a miss', async () => {
    await request(adapter.app).post('/python/execute').send({ code: '1' }).expect(200);
    engine.runtimes = [
      ...(engine.runtimes as object[]),
      { language: 'ruby', version: '3.0.1', aliases: ['rb'] },
    ];
    await request(adapter.app).post('/rb/execute').send({ code: '1' }).expect(200);
    expect(engine.sentExecutions()[1]?.language).toBe('ruby');
  });

  test('runtimes are fetched once, then served from cache until the engine restarts', async () => {
    const runtimeFetches = () => engine.received.filter((r) => r.path === '/api/v2/runtimes');
    for (let i = 0; i < 3; i += 1) {
      await request(adapter.app).post('/python/execute').send({ code: '1' }).expect(200);
    }
    expect(runtimeFetches()).toHaveLength(1);
    adapter.engineState.update({ state: 'restarting', reason: 'test' });
    adapter.engineState.update({ state: 'ready' });
    await request(adapter.app).post('/python/execute').send({ code: '1' }).expect(200);
    expect(runtimeFetches()).toHaveLength(2);
  });

  test('stdin, args and extra files are passed on; code is the first file', async () => {
    const response = await request(adapter.app)
      .post('/python/execute')
      .send({
        properties: {
          code: 'print(open("data.txt").read())',
          stdin: 'Alice',
          args: ['--flag', 'x'],
          files: [
            { name: 'data.txt', content: 'hello' },
            { name: 'blob.bin', content: 'AAEC', encoding: 'Base64' },
          ],
        },
      });
    expect(response.status).toBe(200);
    expect(engine.sentExecutions()[0]).toMatchObject({
      stdin: 'Alice',
      args: ['--flag', 'x'],
      files: [
        { name: 'main.py', content: 'print(open("data.txt").read())' },
        { name: 'data.txt', content: 'hello' },
        { name: 'blob.bin', content: 'AAEC', encoding: 'base64' },
      ],
    });
  });

  test.each([
    [undefined, 60_000],
    [100, 100_000],
    [5000, 220_000],
    [0.5, 500],
    ['30', 30_000],
    [0, 60_000],
    [-5, 60_000],
  ])('timeoutInSeconds %p becomes run_timeout %p (clamped, never rejected)', async (t, ms) => {
    await request(adapter.app)
      .post('/python/execute')
      .send({ properties: { code: '1', ...(t !== undefined && { timeoutInSeconds: t }) } })
      .expect(200);
    expect(engine.sentExecutions()[0]?.run_timeout).toBe(ms);
  });

  test('InlineBase64 code is decoded before it is sent', async () => {
    await request(adapter.app)
      .post('/python/execute')
      .send({
        properties: {
          codeInputType: 'InlineBase64',
          code: Buffer.from('print("b64")').toString('base64'),
        },
      })
      .expect(200);
    expect(engine.sentExecutions()[0]?.files[0]?.content).toBe('print("b64")');
  });
});

describe('default-language routes and dialects', () => {
  test.each(['/code/execute', '/execute'])('%s runs the default language', async (path) => {
    const response = await request(adapter.app)
      .post(`${path}?identifier=sess-1`)
      .send({ properties: { code: 'print(1)' } });
    expect(response.status).toBe(200);
    expect(engine.sentExecutions()[0]?.language).toBe('python');
  });

  test('DEFAULT_LANGUAGE changes what /code/execute runs', async () => {
    const bashAdapter = buildTestApp(engine.url, { DEFAULT_LANGUAGE: 'bash' });
    try {
      await request(bashAdapter.app)
        .post('/code/execute')
        .send({ properties: { code: 'echo 1' } })
        .expect(200);
      expect(engine.sentExecutions()[0]?.language).toBe('bash');
    } finally {
      await bashAdapter.close();
    }
  });

  test('legacy pythonCode with an identifier inside properties', async () => {
    const response = await request(adapter.app)
      .post('/python/execute')
      .send({
        properties: {
          identifier: 'abcd',
          codeInputType: 'inline',
          executionType: 'synchronous',
          pythonCode: 'print(2)',
        },
      });
    expect(response.status).toBe(200);
    expect(response.body.stdout).toBe('Hello, World!\n');
    expect(engine.sentExecutions()[0]?.files[0]?.content).toBe('print(2)');
  });

  test('a body without the properties wrapper', async () => {
    await request(adapter.app)
      .post('/code/execute')
      .send({ codeInputType: 'Inline', executionType: 'Synchronous', code: 'print(3)' })
      .expect(200);
    expect(engine.sentExecutions()[0]?.files[0]?.content).toBe('print(3)');
  });
});

describe('results read from both Piston dialects', () => {
  test('a C compile error (v3: run is a copy of compile) is a Failure with compile output', async () => {
    engine.executeReplies = [{ status: 200, body: loadFixture('c_compile_error').body }];
    const response = await request(adapter.app).post('/c/execute').send({ code: 'int main(' });
    expect(response.body.properties.status).toBe('Failure');
    expect(response.body.properties.compile.exitCode).toBe(1);
    expect(response.body.properties.stderr).toContain("expected ';' before 'return'");
  });

  test('master: compile error with run omitted still reports the compiler output', async () => {
    const recorded = loadFixture('c_compile_error').body as {
      compile: object;
      language: string;
      version: string;
    };
    engine.executeReplies = [
      {
        status: 200,
        body: {
          language: 'c',
          version: '12.2.0',
          compile: {
            ...recorded.compile,
            status: 'RE',
            message: 'exited with code 1',
            memory: 1,
            cpu_time: 5,
            wall_time: 40,
          },
        },
      },
    ];
    const response = await request(adapter.app).post('/c/execute').send({ code: 'int main(' });
    expect(response.status).toBe(200);
    expect(response.body.properties).toMatchObject({
      status: 'Failure',
      exitCode: 1,
      executionTimeInMilliseconds: 40,
      compile: { exitCode: 1 },
    });
    expect(response.body.properties.stderr).toContain('error:');
  });

  test.each([
    ['TO', 'timeout'],
    ['OL', 'outputLimit'],
    ['EL', 'outputLimit'],
  ])('master status %s is reported as stopReason %s', async (status, reason) => {
    engine.executeReplies = [
      {
        status: 200,
        body: {
          language: 'python',
          version: '3.11.2',
          run: {
            stdout: 'partial',
            stderr: '',
            output: 'partial',
            code: null,
            signal: 'SIGKILL',
            status,
            message: 'limit',
            memory: 1,
            cpu_time: 1,
            wall_time: 3,
          },
        },
      },
    ];
    const response = await request(adapter.app).post('/python/execute').send({ code: 'x' });
    expect(response.body.properties).toMatchObject({
      status: 'Failure',
      stopReason: reason,
      stdout: 'partial',
      signal: 'SIGKILL',
    });
  });

  test('v3 SIGKILL before the time limit is explained as the output limit', async () => {
    engine.executeReplies = [{ status: 200, body: loadFixture('python_output_1025').body }];
    const response = await request(adapter.app).post('/python/execute').send({ code: 'x' });
    expect(response.body.properties.stopReason).toBe('outputLimit');
    // Attached, and not told: the adapter's own OUTPUT_MAX_BYTES is not the engine's limit.
    expect(response.body.properties.stopMessage).toContain('unknown size');
    expect(response.body.properties.stopMessage).not.toContain(
      String(adapter.config.outputMaxBytes),
    );
  });

  test('with ENGINE_OUTPUT_MAX_BYTES, the output-limit kill names that limit', async () => {
    const told = buildTestApp(engine.url, { ENGINE_OUTPUT_MAX_BYTES: '1024' });
    try {
      engine.executeReplies = [{ status: 200, body: loadFixture('python_output_1025').body }];
      const response = await request(told.app).post('/python/execute').send({ code: 'x' });
      expect(response.body.properties.stopReason).toBe('outputLimit');
      expect(response.body.properties.stopMessage).toContain('limit of 1024 bytes per stream');
    } finally {
      await told.close();
    }
  });

  test('a non-zero exit is a Failure with its exit code', async () => {
    engine.executeReplies = [{ status: 200, body: loadFixture('python_exit_code_3').body }];
    const response = await request(adapter.app).post('/python/execute').send({ code: 'x' });
    expect(response.body.properties).toMatchObject({ status: 'Failure', exitCode: 3 });
  });
});
