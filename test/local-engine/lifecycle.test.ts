/**
 * The engine as a process: it warns that it is no sandbox, binds loopback only (and refuses to
 * start otherwise), stops on SIGTERM killing its running jobs and removing what it created,
 * and refuses settings it cannot use. Each test starts engines of its own.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectionError, waitUntilGone } from '../support/adapterProcess';
import {
  engineRequest,
  LOCAL_ENGINE_MAIN,
  LocalEngine,
  PROCESS_DEADLINE_MS,
} from '../support/localEngine';
import { waitFor } from '../support/waitFor';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const engines: LocalEngine[] = [];

function start(env: Record<string, string> = {}): LocalEngine {
  // Bash alone: every job here is a bash script, and probing one tool starts the engine fastest.
  const engine = new LocalEngine({ LOCAL_ENGINE_LANGUAGES: 'bash', ...env });
  engines.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

/** An address of this machine that is not loopback, if it has one: no engine answers there. */
const EXTERNAL_IPV4 = Object.values(os.networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
/** Whether ::1 exists here to bind (containers may have IPv6 off). */
const HAS_IPV6_LOOPBACK = Object.values(os.networkInterfaces())
  .flat()
  .some((address) => address?.family === 'IPv6' && address.address === '::1');

test('warns that it is not a sandbox before anything else, then listens on loopback', async () => {
  const engine = start();
  const listening = await engine.listening();
  const [first] = engine.logs;
  expect(first).toMatchObject({ level: 40, stream: 'stdout', user: os.userInfo().username });
  expect(first?.msg).toMatch(/^NOT A SANDBOX: .*loopback only/);
  expect(listening).toMatchObject({
    host: '127.0.0.1',
    port: expect.any(Number),
    url: `http://127.0.0.1:${listening.port}`,
    dialect: 'v3',
  });
  const reply = await engine.request({ method: 'GET', path: '/' });
  expect(reply.json).toEqual({ message: 'Piston v3.1.1' });
});

test('a quiet log level keeps the sandbox warning and where it listens', async () => {
  // Port 0: without the "listening" line nobody could find the engine.
  const engine = start({ PISTON_LOG_LEVEL: 'ERROR' });
  const port = await engine.port();
  expect(engine.logs.map((line) => line.msg)).toEqual([
    expect.stringMatching(/^NOT A SANDBOX/),
    'listening',
  ]);
  expect((await engine.request({ method: 'GET', path: '/api/v2/runtimes' })).status).toBe(200);
  expect(port).toBeGreaterThan(0);
});

describe('binding', () => {
  const refused = ['0.0.0.0:0', '[::]:0', ':0', 'example.com:0', '[::ffff:10.0.0.1]:0'];
  if (EXTERNAL_IPV4 !== undefined) refused.push(`${EXTERNAL_IPV4}:0`);

  test.each(refused)('PISTON_BIND_ADDRESS=%s: refuses to start, saying why', async (address) => {
    const engine = start({ PISTON_BIND_ADDRESS: address });
    expect(await engine.waitForExit()).toEqual({ code: 1, signal: null });
    expect(engine.logs.some((line) => line.msg === 'listening')).toBe(false);
    const error = engine.logs.find((line) => line.msg === 'invalid configuration');
    expect(error).toMatchObject({ level: 50, stream: 'stderr' });
    expect(error?.error).toContain(`PISTON_BIND_ADDRESS=${address}: refusing to bind`);
    expect(error?.error).toContain('not a sandbox');
    // It stopped before creating anything.
    expect(readdirSync(engine.tempDir)).toEqual([]);
  });

  const accepted: [string, string][] = [
    ['127.0.0.1:0', '127.0.0.1'],
    ['127.0.0.2:0', '127.0.0.2'],
    ['localhost:0', 'localhost'],
  ];
  if (HAS_IPV6_LOOPBACK) accepted.push(['[::1]:0', '::1']);

  test.each(accepted)('PISTON_BIND_ADDRESS=%s: listens there', async (address, host) => {
    const engine = start({ PISTON_BIND_ADDRESS: address });
    const listening = await engine.listening();
    expect(listening.host).toBe(host);
    const reply = await engineRequest(listening.port as number, {
      method: 'GET',
      path: '/api/v2/runtimes',
      host,
    });
    expect(reply.status).toBe(200);
  });

  (EXTERNAL_IPV4 === undefined ? test.skip : test)(
    "is not reachable on this machine's other addresses",
    async () => {
      const engine = start();
      const port = await engine.port();
      expect(await connectionError(port)).toBeNull();
      expect(await connectionError(port, EXTERNAL_IPV4)).toBe('ECONNREFUSED');
    },
  );
});

test('SIGTERM kills the running jobs, drops their requests and removes its directory', async () => {
  // A run timeout far beyond the test: only SIGTERM can end this job in time.
  const engine = start({ PISTON_RUN_TIMEOUT: '120000' });
  const jobsDir = await engine.jobsDir();
  const rootDir = path.dirname(jobsDir);
  expect(rootDir.startsWith(engine.tempDir)).toBe(true);
  const pidFile = path.join(engine.tempDir, 'job.pids');
  const running = engine.execute(
    {
      language: 'bash',
      version: '*',
      files: [{ content: `sleep 120 &\necho "$$ $!" > '${pidFile}'\nwait` }],
    },
    60_000,
  );
  running.catch(() => undefined);
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), {
    timeoutMs: PROCESS_DEADLINE_MS,
    what: 'the job to start',
  });
  const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
  expect(pids).toHaveLength(2);
  expect(readdirSync(jobsDir)).toHaveLength(1);

  engine.child.kill('SIGTERM');
  expect(await engine.waitForExit()).toEqual({ code: 0, signal: null });
  await expect(running).rejects.toThrow();
  for (const pid of pids) await waitUntilGone(pid);
  expect(existsSync(rootDir)).toBe(false);
  // Nothing of the engine's is left in its TMPDIR: only the test's own file.
  expect(readdirSync(engine.tempDir)).toEqual(['job.pids']);
  expect(engine.logs.find((line) => line.msg === 'stopped')).toMatchObject({
    reason: 'SIGTERM',
    killedJobs: 1,
  });
});

describe('settings it cannot use stop it at once, naming the variable', () => {
  test.each([
    ['PISTON_RUN_TIMEOUT', 'soon'],
    ['PISTON_OUTPUT_MAX_SIZE', '-1'],
    ['PISTON_MAX_CONCURRENT_JOBS', '0'],
    ['LOCAL_ENGINE_DIALECT', 'v4'],
    ['PISTON_LOG_LEVEL', 'chatty'],
    ['PISTON_BIND_ADDRESS', '127.0.0.1'],
  ])('%s=%s', async (name, value) => {
    const engine = start({ [name]: value });
    expect(await engine.waitForExit()).toEqual({ code: 1, signal: null });
    const error = engine.logs.find((line) => line.msg === 'invalid configuration');
    expect(String(error?.error)).toContain(name);
  });
});

test('LOCAL_ENGINE_LANGUAGES offers exactly those, warning about the ones it lacks', async () => {
  const engine = start({ LOCAL_ENGINE_LANGUAGES: 'bash,cobol' });
  const listening = await engine.listening();
  expect(listening.runtimes).toEqual([expect.stringMatching(/^bash-\d+\.\d+\.\d+$/)]);
  expect(engine.logs.find((line) => line.msg === 'language unavailable')).toMatchObject({
    level: 40,
    language: 'cobol',
  });
});

test('stops by itself when the process that launched it is gone (a SIGKILLed supervisor)', async () => {
  // A parent that launches the engine, reports its pid, and is then killed without a chance
  // to stop it, as a supervisor killed with SIGKILL would be.
  const launcher = [
    "const { spawn } = require('node:child_process');",
    'const engine = spawn(process.execPath, [process.argv[1]], {',
    "  env: { ...process.env, PISTON_BIND_ADDRESS: '127.0.0.1:0', LOCAL_ENGINE_LANGUAGES: 'bash' },",
    "  stdio: ['ignore', 'pipe', 'ignore'],",
    '  detached: true,',
    '});',
    // Once it listens, it has taken note of its parent: only then is the parent killed.
    "engine.stdout.on('data', (chunk) => {",
    "  if (String(chunk).includes('\"listening\"')) process.stdout.write(engine.pid + '\\n');",
    '});',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const parent = spawn(process.execPath, ['-e', launcher, LOCAL_ENGINE_MAIN], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  parent.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  await waitFor(() => output.includes('\n'), { timeoutMs: PROCESS_DEADLINE_MS, what: 'pid' });
  const enginePid = Number(output.trim());
  expect(isAlive(enginePid)).toBe(true);
  parent.kill('SIGKILL');
  await waitUntilGone(enginePid, PROCESS_DEADLINE_MS);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
