import request from 'supertest';
import { startFakeEngine, type FakeEngine } from '../support/fakeEngine';
import { buildTestApp, type TestApp } from '../support/testApp';

/** Every malformed request gets a 4xx JSON error that names the problem; none reaches the engine. */
let engine: FakeEngine;
let adapter: TestApp;

beforeEach(async () => {
  engine = await startFakeEngine();
  adapter = buildTestApp(engine.url, { BODY_LIMIT_BYTES: '200000' });
});
afterEach(async () => {
  await adapter.close();
  await engine.close();
});

function expectJsonError(response: request.Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/application\/json/);
  expect(response.headers['x-ms-error-code']).toBe(code);
  expect(response.body.error.code).toBe(code);
  expect(typeof response.body.error.message).toBe('string');
  expect(response.body.error.message.length).toBeGreaterThan(10);
}

const executions = () => engine.received.filter((r) => r.path === '/api/v2/execute');

describe.each(['/python/execute', '/code/execute', '/execute'])('bad input on %s', (path) => {
  test.each([
    ['missing code', { properties: {} }, 'properties.code'],
    ['code is a number', { properties: { code: 42 } }, 'properties.code'],
    ['code is null-ish object', { properties: { code: { a: 1 } } }, 'properties.code'],
    ['pythonCode is an array', { properties: { pythonCode: ['x'] } }, 'properties.pythonCode'],
    ['stdin is a number', { properties: { code: 'x', stdin: 12345 } }, 'properties.stdin'],
    ['args is a string', { properties: { code: 'x', args: 'notalist' } }, 'properties.args'],
    ['args holds numbers', { properties: { code: 'x', args: [1, 2] } }, 'properties.args.0'],
    ['files is an object', { properties: { code: 'x', files: {} } }, 'properties.files'],
    [
      'file content missing',
      { properties: { code: 'x', files: [{ name: 'a' }] } },
      'properties.files.0.content',
    ],
    [
      'file escapes the job dir',
      { properties: { code: 'x', files: [{ name: '../../escape.py', content: 'x' }] } },
      'properties.files.0.name',
    ],
    [
      'file with an absolute path',
      { properties: { code: 'x', files: [{ name: '/etc/passwd', content: 'x' }] } },
      'properties.files.0.name',
    ],
    [
      'file with an unknown encoding',
      { properties: { code: 'x', files: [{ name: 'a', content: 'x', encoding: 'latin1' }] } },
      'properties.files.0.encoding',
    ],
    ['version is a number', { properties: { code: 'x', version: 3 } }, 'properties.version'],
    [
      'timeout is not a number',
      { properties: { code: 'x', timeoutInSeconds: 'soon' } },
      'properties.timeoutInSeconds',
    ],
    [
      'timeout is an object',
      { properties: { code: 'x', timeoutInSeconds: {} } },
      'properties.timeoutInSeconds',
    ],
    [
      'unknown codeInputType',
      { properties: { code: 'x', codeInputType: 'file' } },
      'properties.codeInputType',
    ],
    [
      'asynchronous execution',
      { properties: { code: 'x', executionType: 'asynchronous' } },
      'properties.executionType',
    ],
    [
      'bad base64',
      { properties: { code: '@@@', codeInputType: 'InlineBase64' } },
      'properties.code',
    ],
    ['properties is a string', { properties: 'print(1)' }, 'properties'],
    ['bare body without code', { language: 'python' }, 'code'],
  ])('%s: 400 naming the field', async (_name, body, field) => {
    const response = await request(adapter.app).post(path).send(body);
    expectJsonError(response, 400, 'invalid_request');
    expect(response.body.error.field).toBe(field);
    expect(response.body.error.message).toContain(field);
    expect(executions()).toHaveLength(0);
  });

  test.each([
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['a JSON string', '"print(1)"'],
    ['a JSON number', '7'],
  ])('%s as the body: 400', async (_name, raw) => {
    const response = await request(adapter.app)
      .post(path)
      .set('content-type', 'application/json')
      .send(raw);
    expectJsonError(response, 400, 'invalid_request');
  });

  test.each([
    ['truncated', '{"properties": {"code": '],
    ['garbage', 'not json at all'],
    ['trailing comma', '{"properties": {"code": "x",}}'],
  ])('invalid JSON (%s): 400 invalid_json', async (_name, raw) => {
    const response = await request(adapter.app)
      .post(path)
      .set('content-type', 'application/json')
      .send(raw);
    expectJsonError(response, 400, 'invalid_json');
  });

  test('an empty body with a JSON content type: 400', async () => {
    const response = await request(adapter.app).post(path).set('content-type', 'application/json');
    expectJsonError(response, 400, 'invalid_request');
  });

  test.each([
    ['text/plain', '{"properties": {"code": "x"}}'],
    ['application/x-www-form-urlencoded', 'code=x'],
    ['multipart/form-data; boundary=x', '--x--'],
  ])('content type %s: 415', async (type, raw) => {
    const response = await request(adapter.app).post(path).set('content-type', type).send(raw);
    expectJsonError(response, 415, 'unsupported_media_type');
    expect(response.body.error.message).toContain(type.split(';')[0]);
  });

  test('no content type: 415', async () => {
    const response = await request(adapter.app).post(path).send(Buffer.from('{"code":"x"}'));
    expectJsonError(response, 415, 'unsupported_media_type');
  });

  test('a body over the adapter limit: 413, and the server stays up', async () => {
    const huge = JSON.stringify({ properties: { code: 'x'.repeat(300_000) } });
    const response = await request(adapter.app)
      .post(path)
      .set('content-type', 'application/json')
      .send(huge);
    expectJsonError(response, 413, 'body_too_large');
    await request(adapter.app).post(path).send({ code: 'print(1)' }).expect(200);
  });

  test('code that fits the adapter but not the engine: 413 naming the largest parts', async () => {
    const response = await request(adapter.app)
      .post(path)
      .send({
        properties: {
          code: 'print(1)',
          files: [{ name: 'big.csv', content: 'y'.repeat(150_000) }],
        },
      });
    expectJsonError(response, 413, 'engine_body_limit');
    expect(response.body.error.message).toContain('big.csv');
    expect(executions()).toHaveLength(0);
  });

  test('a charset JSON content type is accepted', async () => {
    await request(adapter.app)
      .post(path)
      .set('content-type', 'application/json; charset=utf-8')
      .send('{"properties": {"code": "print(1)"}}')
      .expect(200);
  });
});

describe('odd paths and methods', () => {
  test.each([
    ['GET', '/nope'],
    ['POST', '/python/execute/extra'],
    ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
    ['PUT', '/filez/x'],
    ['GET', '/api'],
    ['POST', '//python//execute'],
  ])('%s %s: 404 naming method, path and the routes that exist', async (method, path) => {
    const agent = request(adapter.app);
    const response = await agent[method.toLowerCase() as 'get'](path);
    expectJsonError(response, 404, 'route_not_found');
    expect(response.body.error.method).toBe(method);
    expect(response.body.error.routes).toContain('POST /:lang/execute');
    expect(response.body.error.message).toContain(method);
  });

  test.each([
    ['GET', '/python/execute', 'POST'],
    // Matches /:lang/execute and /code/execute: the method is named once.
    ['GET', '/code/execute', 'POST'],
    ['DELETE', '/execute', 'POST'],
    ['POST', '/health', 'GET'],
    ['POST', '/', 'GET'],
  ])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const agent = request(adapter.app);
    const response = await agent[method.toLowerCase() as 'get'](path);
    expectJsonError(response, 405, 'method_not_allowed');
    expect(response.headers['allow']).toBe(allow);
    expect(response.body.error.allowed).toEqual([allow]);
  });

  test('a malformed percent-encoding in the path does not crash: 4xx JSON', async () => {
    const response = await request(adapter.app).post('/%E0%A4%A/execute').send({ code: 'x' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body.error).toBeDefined();
    await request(adapter.app).post('/python/execute').send({ code: 'x' }).expect(200);
  });

  test('every answer names who answered', async () => {
    const response = await request(adapter.app).get('/nope');
    expect(response.headers['x-served-by']).toMatch(/^piston-session-adapter\//);
    expect(response.body.error.source).toBe('adapter');
  });
});
