/**
 * Python results end to end: the built adapter supervising the local engine (real Python, the
 * engine's output limit as Piston v3.1.1 applies it: the chunk that crosses is dropped and the
 * run killed), once with the result out of band (ENGINE_FILESYSTEM=shared, the default for a
 * supervised engine) and once on stdout behind the nonce (separate, as for a remote engine).
 * With REAL_PISTON_CMD set, the same cases also run against the real Piston v3.1.1, whose jobs
 * run as runner uids on this file system (separate too: its stdout channel, on a real engine).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  commandLine,
  REPO_ROOT,
  startAdapter,
  type AdapterProcess,
} from '../support/adapterProcess';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';
import { installedVersions } from '../support/localEngineConformance';

jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const LOCAL_ENGINE = path.join(REPO_ROOT, 'dist/scripts/local-engine/main.js');
const OUTPUT_MAX_BYTES = 64 * 1024;
const ENGINE_BODY_LIMIT_BYTES = 40 * 1024;
const hasPython = installedVersions().get('python') !== null;
const REAL_PISTON_CMD = process.env.REAL_PISTON_CMD;
if (!REAL_PISTON_CMD) {
  process.stderr.write(
    'pythonResults.test.ts: real Piston cases SKIPPED: REAL_PISTON_CMD is not set\n',
  );
  it.skip('real Piston cases (skipped: REAL_PISTON_CMD is not set)', () => undefined);
}

interface Engine {
  name: string;
  command: string;
  filesystem: 'shared' | 'separate';
}
const engines: Engine[] = [
  ...(hasPython
    ? [{ name: 'local engine', command: commandLine(process.execPath, LOCAL_ENGINE) }].flatMap(
        (engine) =>
          (['shared', 'separate'] as const).map((filesystem) => ({ ...engine, filesystem })),
      )
    : []),
  ...(REAL_PISTON_CMD
    ? (['shared', 'separate'] as const).map((filesystem) => ({
        name: 'real Piston',
        command: REAL_PISTON_CMD,
        filesystem,
      }))
    : []),
];

interface Reply {
  status: string;
  stdout: string;
  stderr: string;
  result: unknown;
  stopReason: string | null;
  resultNote: string | null;
  exitCode: number | null;
}

async function execute(adapter: AdapterProcess, code: string, stdin?: string): Promise<Reply> {
  const reply = await adapter.request(
    'POST',
    '/python/execute',
    { properties: { code, ...(stdin !== undefined && { stdin }) } },
    { timeoutMs: PROCESS_DEADLINE_MS },
  );
  expect(reply.status).toBe(200);
  const { properties } = reply.json as { properties: Reply };
  return properties;
}

// Assigned: a bare write() would be the final expression, its value the byte count.
const print = (bytes: number) => `import sys\n_ = sys.stdout.write('A' * ${bytes})`;

// describe.each of an empty table fails: one skipped row keeps the file honest without Python.
const table =
  engines.length > 0
    ? engines
    : [{ name: 'no engine', command: '', filesystem: 'shared' as const }];
const describeEngines = engines.length > 0 ? describe.each(table) : describe.skip.each(table);

describeEngines('$name, ENGINE_FILESYSTEM=$filesystem', ({ command, filesystem }) => {
  let adapter: AdapterProcess;
  beforeAll(async () => {
    adapter = startAdapter((tempDir) => {
      // The session folder jobs work in when they share this file system; real Piston's jobs
      // run as other uids, which must reach it and write there.
      const filesDir = path.join(tempDir, 'files');
      mkdirSync(filesDir);
      chmodSync(tempDir, 0o711);
      chmodSync(filesDir, 0o777);
      return {
        FILES_DIR: filesDir,
        ENGINE_COMMAND: command,
        LOCAL_ENGINE_LANGUAGES: 'python',
        ENGINE_FILESYSTEM: filesystem,
        PYTHON_RESULT: 'true',
        OUTPUT_MAX_BYTES: String(OUTPUT_MAX_BYTES),
        ENGINE_BODY_LIMIT_BYTES: String(ENGINE_BODY_LIMIT_BYTES),
      };
    });
    await adapter.ingressPort(PROCESS_DEADLINE_MS);
  });
  afterAll(async () => {
    await adapter?.cleanup();
  });

  const shared = filesystem === 'shared';

  it.each([
    ['under the limit', OUTPUT_MAX_BYTES - 1000],
    ['just under the limit', OUTPUT_MAX_BYTES - 44],
    ['at the limit', OUTPUT_MAX_BYTES],
  ])('output %s, no final value: Success, all of it', async (_name, bytes) => {
    const reply = await execute(adapter, print(bytes));
    expect(reply).toMatchObject({ status: 'Success', result: '', stopReason: null });
    expect(reply.stdout).toBe('A'.repeat(bytes));
    expect(reply.resultNote).toBeNull();
  });

  it.each([
    ['under the limit', OUTPUT_MAX_BYTES - 1000],
    ['just under the limit', OUTPUT_MAX_BYTES - 44],
    ['at the limit', OUTPUT_MAX_BYTES],
  ])('output %s with a final value', async (_name, bytes) => {
    const reply = await execute(adapter, `${print(bytes)}\n{'answer': 42}`);
    // The runner's data never shows in stdout, whatever the engine cut.
    expect(reply.stdout).toMatch(/^A*$/);
    if (shared || bytes === OUTPUT_MAX_BYTES - 1000) {
      // Out of band the limit is all the program's: its output and its result, both whole.
      expect(reply).toMatchObject({ status: 'Success', result: { answer: 42 }, stopReason: null });
      expect(reply.stdout).toHaveLength(bytes);
      expect(reply.resultNote).toBeNull();
    } else {
      // On stdout the record needs room the program left none of: no result, and where the
      // cut shows, the status the program earned and a note saying why.
      expect(reply.result).toBe('');
      if (reply.resultNote !== null) {
        expect(reply.resultNote).toContain(`output limit of ${OUTPUT_MAX_BYTES} bytes`);
        expect(reply).toMatchObject({ status: 'Success', stopReason: null, exitCode: 0 });
      }
    }
  });

  it('output over the limit fails for the output, with no runner data in stdout', async () => {
    const reply = await execute(adapter, `${print(OUTPUT_MAX_BYTES + 10)}\n1`);
    expect(reply).toMatchObject({ status: 'Failure', stopReason: 'outputLimit', result: '' });
    expect(reply.stdout).toMatch(/^A*$/);
    // Whether the kill came before or after the code's end is the engine's race, not ours.
    if (reply.resultNote !== null) expect(reply.resultNote).toContain('engine stopped the run');
  });

  it('a result too large for the channel is cut, with a note, and the status kept', async () => {
    const reply = await execute(adapter, "print('ok')\n'x' * 300000");
    expect(reply).toMatchObject({ status: 'Success', stdout: 'ok\n' });
    const limit = shared ? 1024 * 1024 : OUTPUT_MAX_BYTES / 8;
    if (shared) {
      expect(reply.result).toBe('x'.repeat(300000));
      expect(reply.resultNote).toBeNull();
    } else {
      expect(reply.result).toBe(`'${'x'.repeat(limit - 1)}...`);
      expect(reply.resultNote).toContain(`cut to ${limit} of its 300002 characters`);
    }
  });

  it('the adapter compiles the runner for its cache in a job of its own (shared only)', async () => {
    expect((await execute(adapter, '6 * 7')).result).toBe(42);
    if (!shared) {
      // Nothing to keep where jobs do not share the adapter's folder.
      expect(adapter.logs.some((line) => line.msg === 'Python runner compiled for the cache')).toBe(
        false,
      );
      return;
    }
    const line = await adapter.waitForMessage('Python runner compiled for the cache', {
      timeoutMs: PROCESS_DEADLINE_MS,
    });
    expect((line.adopted as string[]).map((name) => name.split('-')[0]).sort()).toEqual([
      'rare',
      'runner',
      'uploads',
    ]);
    // Jobs run from the adapter's copies now, errors (the rare part) included.
    expect((await execute(adapter, '6 * 7')).result).toBe(42);
    const failed = await execute(adapter, 'def f():\n    return 1 / 0\nf()');
    expect(failed.stderr).toMatch(/^Traceback[^]*File "main.py", line 3[^]*ZeroDivisionError/);
    expect(failed.stderr).not.toContain('piston-session-runner');
  });

  it('stdin reaches descriptor 0 untouched', async () => {
    const reply = await execute(adapter, 'import os\nos.read(0, 100).decode()', 'line');
    expect(reply).toMatchObject({ status: 'Success', result: 'line\n', stdout: '' });
  });

  it('code that fits the engine only without the runner runs plain, and the note says why', async () => {
    // The runner adds under 3 kB with a shared file system, 17 kB without: 1 kB from the
    // limit fits only as a plain file either way.
    const filler = 'a'.repeat(ENGINE_BODY_LIMIT_BYTES - 1000);
    const reply = await execute(adapter, `x = '${filler}'\nprint(len(x))\nlen(x)`);
    expect(reply).toMatchObject({ status: 'Success', stdout: `${filler.length}\n`, result: '' });
    expect(reply.resultNote).toContain(
      `over the engine's limit of ${ENGINE_BODY_LIMIT_BYTES} bytes`,
    );
  });
});
