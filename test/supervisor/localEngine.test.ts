/**
 * The built adapter supervising the built local engine (ENGINE_COMMAND, ENGINE_PORT=0), both
 * real processes: ingress stays closed until the engine answers, then requests run real code
 * through it (Python, C with its compile stage, stdin), and SIGTERM takes both down cleanly.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findFreePort } from '../../adapter/supervisor/freePort';
import {
  commandLine,
  connectionError,
  startAdapter,
  waitUntilGone,
  type AdapterProcess,
  type LogLine,
} from '../support/adapterProcess';
import { LOCAL_ENGINE_MAIN, PROCESS_DEADLINE_MS } from '../support/localEngine';
import { installedVersions } from '../support/localEngineConformance';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const versions = installedVersions();
const withPython = versions.get('python') === null ? test.skip : test;
const withGcc = versions.get('c') === null ? test.skip : test;

const ENGINE_COMMAND = commandLine(process.execPath, LOCAL_ENGINE_MAIN);

/** The adapter of the test that runs one of its own. */
let gated: AdapterProcess | undefined;

afterEach(async () => {
  await gated?.cleanup();
  gated = undefined;
});

function launch(env: (tempDir: string) => Record<string, string>): AdapterProcess {
  return startAdapter((tempDir) => ({
    ENGINE_COMMAND,
    ENGINE_PORT: '0',
    // The engine creates its directory in TMPDIR: inside the adapter's, removed with it even
    // when cleanup has to SIGKILL everything.
    TMPDIR: tempDir,
    ...env(tempDir),
  }));
}

/** POST /<language>/execute, Azure's legacy dialect, with room for a loaded machine. */
const execute = (adapter: AdapterProcess, language: string, properties: Record<string, string>) =>
  adapter.request(
    'POST',
    `/${language}/execute`,
    { properties },
    { timeoutMs: PROCESS_DEADLINE_MS },
  );

/** An engine line the supervisor passed on, parsed: the engine logs JSON. */
/** The engine's lines reach the adapter's log as entries of their own, fields and all. */
function engineLine(line: LogLine): LogLine | undefined {
  return line.source === 'engine' ? line : undefined;
}

const waitForEngineLine = (
  adapter: AdapterProcess,
  what: string,
  match: (msg: string) => boolean,
) =>
  adapter.waitForLog((line) => match(String(engineLine(line)?.msg)), {
    what,
    timeoutMs: PROCESS_DEADLINE_MS,
  });

withPython(
  'ingress stays closed until the engine answers; then Python runs for real; SIGTERM ends both',
  async () => {
    const port = await findFreePort();
    // The interpreter itself, past any version-manager shim: the held probe must be quick
    // once released, as the engine gives each probe 10 s.
    const python3 = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).stdout.trim();
    expect(python3).toMatch(/^\//);
    const adapter = launch((tempDir) => {
      // A python3 first on PATH that waits for the gate file: the engine's runtime discovery
      // runs it before the engine listens, so the engine cannot answer before the test says.
      const bin = path.join(tempDir, 'bin');
      mkdirSync(bin);
      const shim = path.join(bin, 'python3');
      writeFileSync(
        shim,
        `#!/bin/sh\nwhile [ ! -e '${path.join(tempDir, 'gate')}' ]; do sleep 0.02; done\nexec '${python3}' "$@"\n`,
      );
      chmodSync(shim, 0o755);
      return { PORT: String(port), PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    });
    gated = adapter;

    // The engine warns first, then discovers the runtimes (held by the gate), then listens.
    await waitForEngineLine(adapter, 'the sandbox warning', (msg) =>
      msg.startsWith('NOT A SANDBOX'),
    );
    const launched = await adapter.waitForMessage('engine launched', {
      timeoutMs: PROCESS_DEADLINE_MS,
    });
    const bindAddress = String(launched.bindAddress);
    const enginePort = Number(bindAddress.split(':')[1]);
    expect(bindAddress).toBe(`127.0.0.1:${enginePort}`);
    expect(await connectionError(enginePort)).toBe('ECONNREFUSED');
    expect(await connectionError(port)).toBe('ECONNREFUSED');
    expect(adapter.logs.some((line) => line.msg === 'ingress open')).toBe(false);

    writeFileSync(path.join(adapter.tempDir, 'gate'), '');
    expect(await adapter.ingressPort(PROCESS_DEADLINE_MS)).toBe(port);
    const listening = adapter.logs.map(engineLine).find((line) => line?.msg === 'listening');
    expect(listening).toMatchObject({ port: enginePort, host: '127.0.0.1' });
    expect(adapter.logs.find((line) => line.msg === 'ingress open')).toMatchObject({
      engineState: 'ready',
    });

    const reply = await execute(adapter, 'python', { code: 'print(6*7)' });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      stdout: '42\n',
      properties: { status: 'Success', stdout: '42\n', stderr: '', exitCode: 0 },
    });

    const [enginePid] = adapter.enginePids();
    const engineRoot = path.dirname(String(listening?.jobsDir));
    expect(existsSync(engineRoot)).toBe(true);
    adapter.child.kill('SIGTERM');
    expect(await adapter.waitForExit(PROCESS_DEADLINE_MS)).toEqual({ code: 0, signal: null });
    await waitUntilGone(enginePid as number);
    expect(existsSync(engineRoot)).toBe(false);
  },
);

describe('once running', () => {
  let adapter: AdapterProcess;

  // One adapter for the tests below: each only sends requests, and they share no state.
  beforeAll(async () => {
    adapter = launch(() => ({}));
    await adapter.ingressPort(PROCESS_DEADLINE_MS);
  });

  afterAll(async () => {
    await adapter.cleanup();
  });

  withGcc(
    'a C program is compiled, then run',
    async () => {
      const reply = await execute(adapter, 'c', {
        code: '#include <stdio.h>\nint main(void) { printf("compiled %d\\n", 6 * 7); return 0; }',
      });
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({
        stdout: 'compiled 42\n',
        properties: { status: 'Success', exitCode: 0, language: 'c' },
      });
      // A compile error comes back from the compile stage, and nothing runs.
      const broken = await execute(adapter, 'c', { code: 'int main(void) { return 0 }' });
      expect(broken.status).toBe(200);
      expect(broken.json).toMatchObject({ properties: { status: 'Failure' } });
      expect(JSON.stringify(broken.json)).toContain("expected ';'");
    },
    3 * PROCESS_DEADLINE_MS,
  );

  withPython('stdin reaches the program', async () => {
    const reply = await execute(adapter, 'python', {
      code: 'name = input()\nprint(f"hello {name}")',
      stdin: 'Ada',
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ stdout: 'hello Ada\n', properties: { exitCode: 0 } });
  });
});
