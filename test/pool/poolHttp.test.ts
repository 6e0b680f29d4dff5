/**
 * The emulator's HTTP face, in-process, with fake sessions that echo what reaches them:
 * forwarding exactly, identifier and token checks, the cap, the management operations and the
 * status route.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPoolApp } from '../../scripts/pool/poolApp';
import { SessionPool } from '../../scripts/pool/sessionPool';
import type { HttpReply } from '../support/adapterProcess';
import { FakeLauncher, memoryLogger, type EchoReply } from '../support/fakeSessions';
import { send, type SendOptions } from '../support/httpClient';
import { waitFor } from '../support/waitFor';

interface Options {
  maxSessions?: number;
  readySessions?: number;
  token?: string;
  auto?: boolean;
  serve?: boolean;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPool({
  maxSessions = 3,
  readySessions = 0,
  token,
  auto = true,
  serve = true,
}: Options = {}) {
  const launcher = new FakeLauncher({ auto, serve });
  const { logger, lines } = memoryLogger();
  const pool = new SessionPool({
    maxSessions,
    readySessions,
    cooldownMs: 60_000,
    launch: launcher.launch,
    logger,
  });
  const poolApp = createPoolApp({ pool, token, name: 'test-pool', logger });
  const server = http.createServer(poolApp.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pool.start();
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await pool.shutdown();
    await poolApp.close();
    await launcher.closeAll();
  });
  const port = (server.address() as AddressInfo).port;
  const request = (method: string, path: string, options?: SendOptions): Promise<HttpReply> =>
    send(port, method, path, options);
  return { pool, launcher, lines, request, port };
}

function errorOf(reply: HttpReply): { code: string; message: string } {
  return (reply.json as { error: { code: string; message: string } }).error;
}

test('forwards method, path, query, body and headers unchanged, and the answer back', async () => {
  const { request } = await startPool();
  const path =
    '/files/content//mnt/data/x.csv?api-version=2024-02-02-preview&identifier=abcd&q=%2F%20a+b';
  const reply = await request('POST', path, {
    body: 'hello, session',
    headers: { 'content-type': 'text/plain', 'x-custom': 'kept', authorization: 'Bearer t' },
  });
  expect(reply.status).toBe(200);
  const echo = reply.json as EchoReply;
  expect(echo).toMatchObject({ method: 'POST', url: path, body: 'hello, session' });
  expect(echo.headers).toMatchObject({ 'x-custom': 'kept', 'content-type': 'text/plain' });
  // The caller's token is the pool's business; the container must not depend on it.
  expect(echo.headers.authorization).toBeUndefined();
  expect(reply.headers['x-echo']).toBe(echo.session);
  expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);

  const teapot = await request('DELETE', '/status/418?identifier=abcd');
  expect(teapot.status).toBe(418);
  expect((teapot.json as EchoReply).session).toBe(echo.session);
});

test.each([
  ['no identifier', '/code/execute', 'required'],
  ['an empty identifier', '/code/execute?identifier=', 'required'],
  ['3 characters', '/code/execute?identifier=abc', 'has 3 characters; it must have 4 to 128'],
  ['129 characters', `/code/execute?identifier=${'a'.repeat(129)}`, 'has 129 characters'],
  ['an underscore', '/code/execute?identifier=user_1', 'contains "_"'],
  ['a dot and a space', '/code/execute?identifier=us.er%201', 'contains ".", " "'],
  ['two identifiers', '/code/execute?identifier=aaaa&identifier=bbbb', 'given 2 times'],
])('%s: 400 with a reason, and no session', async (_what, path, reason) => {
  const { request, launcher } = await startPool();
  const reply = await request('POST', path, { body: { properties: { code: 'print(1)' } } });
  expect(reply.status).toBe(400);
  expect(reply.headers['x-ms-error-code']).toBe('SessionRequestValidationFailed');
  expect(errorOf(reply).code).toBe('SessionRequestValidationFailed');
  expect(errorOf(reply).message).toContain(reason);
  expect(launcher.launches).toHaveLength(0);
});

test('identifiers at the limits of the rule are accepted', async () => {
  const { request } = await startPool();
  const specials = '|-&^%$#(){}[];<>';
  for (const identifier of ['abcd', 'x'.repeat(128), `a1${specials}`]) {
    const reply = await request('GET', `/health?identifier=${encodeURIComponent(identifier)}`);
    expect(reply.status).toBe(200);
  }
});

test('with a token: none is 401, a wrong one 403, the right one passes and stays here', async () => {
  const { request, launcher } = await startPool({ token: 's3cret' });
  const path = '/code/execute?identifier=abcd';

  const none = await request('POST', path);
  expect(none.status).toBe(401);
  expect(none.headers['www-authenticate']).toBe('Bearer');
  expect(errorOf(none).message).toContain('no Authorization header');
  const basic = await request('POST', path, { headers: { authorization: 'Basic czNjcmV0' } });
  expect(basic.status).toBe(401);
  const wrong = await request('POST', path, { headers: { authorization: 'Bearer s3cret-not' } });
  expect(wrong.status).toBe(403);
  expect(errorOf(wrong).code).toBe('Forbidden');
  // Checked before the identifier, and before anything is allocated.
  expect((await request('POST', '/code/execute')).status).toBe(401);
  expect((await request('POST', '/.management/listSessions')).status).toBe(401);
  expect(launcher.launches).toHaveLength(0);

  const right = await request('POST', path, { headers: { authorization: 'bearer s3cret' } });
  expect(right.status).toBe(200);
  expect((right.json as EchoReply).headers.authorization).toBeUndefined();
  // The emulator's own status page is not Azure's and needs no token.
  expect((await request('GET', '/.pool/status')).status).toBe(200);
});

test('past maxSessions a new identifier gets 429 in Azure error form', async () => {
  const { request, lines } = await startPool({ maxSessions: 1 });
  expect((await request('GET', '/health?identifier=first')).status).toBe(200);
  const refused = await request('GET', '/health?identifier=second');
  expect(refused.status).toBe(429);
  expect(refused.headers['x-ms-error-code']).toBe('SessionPoolMaxSessionsReached');
  expect(refused.json).toEqual({
    error: {
      code: 'SessionPoolMaxSessionsReached',
      message: expect.stringContaining('maximum of 1'),
    },
  });
  expect(lines.some((l) => l.msg === 'allocation rejected: pool at maxSessions')).toBe(true);
  expect((await request('GET', '/health?identifier=first')).status).toBe(200);
});

test('management: getSession, listSessions and stopSession as documented', async () => {
  const { request, launcher } = await startPool();
  await request('GET', '/health?identifier=user-123');
  await request('GET', '/health?identifier=user-456');

  const view = await request(
    'POST',
    '/.management/getSession?identifier=user-123&api-version=2025-02-02-preview',
  );
  expect(view.status).toBe(200);
  expect(view.json).toEqual({
    identifier: 'user-123',
    etag: expect.any(String),
    expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    createdAt: expect.any(String),
    lastAccessedAt: expect.any(String),
  });
  const list = await request(
    'POST',
    '/.management/listSessions?skip=0&api-version=2025-02-02-preview',
  );
  expect(list.json).toMatchObject({ count: 2, nextLink: null });

  const stop = await request(
    'POST',
    '/.management/stopSession?api-version=2025-02-02-preview&identifier=user-123',
  );
  expect(stop.status).toBe(200);
  expect(stop.headers['content-type']).toMatch(/^text\/plain/);
  expect(stop.text).toBe('Session user-123 in session pool test-pool stopped.');
  expect(launcher.handles()[0]?.state).toBe('stopped');

  const gone = await request('POST', '/.management/getSession?identifier=user-123');
  expect(gone.status).toBe(400);
  expect(errorOf(gone).code).toBe('SessionWithIdentifierNotFound');
  expect((await request('POST', '/.management/stopSession?identifier=user-123')).status).toBe(400);
  expect(errorOf(await request('POST', '/.management/stopSession')).code).toBe(
    'SessionRequestValidationFailed',
  );
  const wrongMethod = await request('GET', '/.management/listSessions');
  expect(wrongMethod.status).toBe(400);
  expect(errorOf(wrongMethod).code).toBe('SessionRequestNotSupported');
  expect((await request('POST', '/.management/deleteSession?identifier=user-456')).status).toBe(
    400,
  );
  // The identifier's next request starts afresh.
  const fresh = await request('GET', '/health?identifier=user-123');
  expect((fresh.json as EchoReply).session).toBe('s3');
});

test('listSessions pages by 300 with nextLink', async () => {
  const { request, pool } = await startPool({ maxSessions: 650, serve: false });
  await Promise.all(Array.from({ length: 650 }, (_, i) => pool.acquire(`user-${i}`)));
  const seen: string[] = [];
  let path: string | null = '/.management/listSessions?api-version=2025-02-02-preview';
  const counts: number[] = [];
  while (path !== null) {
    const page = (await request('POST', path)).json as {
      value: Array<{ identifier: string }>;
      count: number;
      nextLink: string | null;
    };
    counts.push(page.count);
    seen.push(...page.value.map((session) => session.identifier));
    path =
      page.nextLink === null
        ? null
        : new URL(page.nextLink).pathname + new URL(page.nextLink).search;
    if (path !== null) expect(path).toContain('api-version=2025-02-02-preview');
  }
  expect(counts).toEqual([300, 300, 50]);
  expect(new Set(seen).size).toBe(650);
  expect((await request('POST', '/.management/listSessions?skip=-1')).status).toBe(400);
});

test('a session that cannot start: 503 with its reason, and no slot kept', async () => {
  const { request, launcher, pool } = await startPool({ maxSessions: 1, auto: false });
  const pending = request('POST', '/code/execute?identifier=abcd', { body: {} });
  await waitFor(() => launcher.launches.length === 1, { what: 'a launch' });
  launcher.launches[0]?.fail('its adapter exited with code 2: invalid configuration: PORT');
  const reply = await pending;
  expect(reply.status).toBe(503);
  expect(errorOf(reply)).toEqual({
    code: 'SessionStartFailed',
    message: expect.stringContaining('invalid configuration: PORT'),
  });
  expect(pool.status().allocated).toBe(0);
});

test('a session that stopped answering: 502 naming the session', async () => {
  const { request, launcher } = await startPool();
  await request('GET', '/health?identifier=abcd');
  await launcher.handles()[0]?.stopAnswering();
  const reply = await request('GET', '/health?identifier=abcd');
  expect(reply.status).toBe(502);
  expect(errorOf(reply)).toEqual({
    code: 'SessionUnreachable',
    message: expect.stringContaining("'abcd' did not answer"),
  });
});

test('a caller who leaves while its session starts does not keep it busy', async () => {
  const { launcher, pool, port } = await startPool({ auto: false });
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/health?identifier=abcd',
    agent: false,
  });
  req.on('error', () => undefined);
  req.end();
  await waitFor(() => launcher.launches.length === 1, { what: 'a launch' });
  req.destroy();
  await waitFor(() => pool.status().sessions[0]?.inFlight === 1, { what: 'the hold' });
  await launcher.launches[0]?.succeed();
  await waitFor(() => pool.status().sessions[0]?.inFlight === 0, { what: 'the hold released' });
  expect(pool.status().sessions[0]?.expiresAt).not.toBeNull();
});

test('GET /.pool/status is answered by the pool, never forwarded', async () => {
  const { request, launcher } = await startPool({ maxSessions: 2, readySessions: 1 });
  await waitFor(() => launcher.running().length === 1, { what: 'the ready session' });
  await request('GET', '/health?identifier=abcd');
  await request('GET', '/health?identifier=wxyz');
  await request('GET', '/health?identifier=qrst');
  const status = await request('GET', '/.pool/status?identifier=abcd');
  expect(status.status).toBe(200);
  expect(status.json).toMatchObject({
    maxSessions: 2,
    readySessions: 1,
    allocated: 2,
    ready: 0,
    counters: { allocations: 2, allocationsFromReady: 2, rejections: 1 },
    sessions: [
      { identifier: 'abcd', state: 'allocated', inFlight: 0, requests: 1 },
      { identifier: 'wxyz', state: 'allocated' },
    ],
  });
  expect((await request('GET', '/.pool/other')).status).toBe(404);
});
