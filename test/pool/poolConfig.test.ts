import { loadPoolConfig, PoolConfigError } from '../../scripts/pool/config';
import {
  freeLoopbackPort,
  sessionCommandLine,
  sessionEnvironment,
} from '../../scripts/pool/sessionProcess';

test('defaults, and every POOL_ variable read', () => {
  expect(loadPoolConfig({})).toEqual({
    host: '127.0.0.1',
    port: 2100,
    maxSessions: 10,
    readySessions: 1,
    cooldownMs: 300_000,
    token: undefined,
    name: 'local-pool',
    sessionStartTimeoutMs: 90_000,
    sessionStopTimeoutMs: 15_000,
    logLevel: 'info',
    sessionCommand: undefined,
  });
  expect(
    loadPoolConfig({
      POOL_PORT: '0',
      POOL_MAX_SESSIONS: '5',
      POOL_READY_SESSIONS: '0',
      POOL_COOLDOWN_SECONDS: '1.5',
      POOL_TOKEN: 'secret',
      POOL_LOG_LEVEL: 'debug',
      POOL_SESSION_COMMAND: ' podman run --rm -p 127.0.0.1:{port}:2000 psa:v3 ',
      POOL_READY: 'ignored: not a setting',
    }),
  ).toMatchObject({
    sessionCommand: 'podman run --rm -p 127.0.0.1:{port}:2000 psa:v3',
    port: 0,
    maxSessions: 5,
    readySessions: 0,
    cooldownMs: 1_500,
    token: 'secret',
  });
});

test.each([
  [{ POOL_MAX_SESSIONS: '0' }, 'POOL_MAX_SESSIONS="0"'],
  [{ POOL_PORT: '70000' }, 'POOL_PORT="70000"'],
  [{ POOL_COOLDOWN_SECONDS: 'soon' }, 'POOL_COOLDOWN_SECONDS="soon"'],
  [{ POOL_READY_SESSIONS: '-1' }, 'POOL_READY_SESSIONS="-1"'],
  [{ POOL_MAX_SESSIONS: '2', POOL_READY_SESSIONS: '3' }, 'must not exceed POOL_MAX_SESSIONS=2'],
  [{ POOL_LOG_LEVEL: 'loud' }, 'POOL_LOG_LEVEL="loud"'],
  [
    { POOL_SESSION_COMMAND: 'podman run img' },
    'POOL_SESSION_COMMAND="podman run img": must contain {port}',
  ],
])('%j is refused, naming the variable', (env, named) => {
  expect(() => loadPoolConfig(env)).toThrow(PoolConfigError);
  expect(() => loadPoolConfig(env)).toThrow(named);
});

test("sessions get the adapter's variables, not the pool's, on loopback ports of their own", () => {
  const env = sessionEnvironment(
    {
      POOL_TOKEN: 'secret',
      POOL_MAX_SESSIONS: '3',
      ENGINE_URL: 'http://127.0.0.1:2001',
      PORT: '2000',
      LOG_LEVEL: 'warn',
      MAX_TIMEOUT_SECONDS: '30',
    },
    '/repo with space',
  );
  expect(env).toEqual({
    MAX_TIMEOUT_SECONDS: '30',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    ENGINE_PORT: '0',
    ENGINE_COMMAND: expect.stringMatching(
      / \/repo\\ with\\ space\/dist\/scripts\/local-engine\/main\.js$/,
    ),
  });
  expect(
    sessionEnvironment({ ENGINE_COMMAND: 'my-engine --x', LOG_LEVEL: 'debug' }, '/r'),
  ).toMatchObject({
    ENGINE_COMMAND: 'my-engine --x',
    LOG_LEVEL: 'debug',
  });
});

test("a session command's {port} and {id} are filled in wherever they appear in a word", () => {
  expect(
    sessionCommandLine(
      ['podman', 'run', '--name', 'psa-{id}', '-p', '127.0.0.1:{port}:2000', 'img', '{port}{port}'],
      { port: 41234, sessionId: 's7' },
    ),
  ).toEqual([
    'podman',
    'run',
    '--name',
    'psa-s7',
    '-p',
    '127.0.0.1:41234:2000',
    'img',
    '4123441234',
  ]);
});

test('a free loopback port is a port number, free again once returned', async () => {
  const port = await freeLoopbackPort();
  expect(port).toBeGreaterThan(0);
  expect(port).toBeLessThan(65536);
});
