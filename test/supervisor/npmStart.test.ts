/**
 * `npm start` stopped the way a process manager stops it (SIGTERM) or a developer does
 * (Ctrl-C, SIGINT): it exits 0 and leaves nothing running. The start command is the one in
 * package.json, run by npm in a scratch folder whose `build` does nothing (a build here would
 * rewrite dist/ under the other tests) and whose scripts/ and dist/ are this repository's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, REPO_ROOT } from '../support/adapterProcess';
import { cleanEnvironment } from '../support/loggedProcess';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';
import { waitFor } from '../support/waitFor';

jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const startCommand = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts.start;

let dir: string;
let child: ChildProcess | undefined;
let pids: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'psa-npm-start-'));
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'npm-start-check',
      private: true,
      scripts: { build: 'true', start: startCommand },
    }),
  );
  // The start script runs what is beside it: this repository's scripts and build.
  for (const name of ['scripts', 'dist']) {
    symlinkSync(path.join(REPO_ROOT, name), path.join(dir, name));
  }
});

afterEach(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  pids = [];
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

test.each(['SIGTERM', 'SIGINT'] as const)(
  'npm start stopped with %s exits 0, leaving nothing',
  async (signal) => {
    let output = '';
    child = spawn('npm', ['start'], {
      cwd: dir,
      env: {
        ...cleanEnvironment(/^(ENGINE_|PISTON_|LOCAL_ENGINE_|npm_)/),
        PORT: '0',
        HOST: '127.0.0.1',
        ENGINE_PORT: '0',
        LOCAL_ENGINE_LANGUAGES: 'bash',
        TMPDIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) =>
      child?.once('exit', (code) => resolve(code)),
    );
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('"msg":"ingress open"'), {
      timeoutMs: PROCESS_DEADLINE_MS,
      what: `the adapter to open its port; output so far:\n${output}`,
    });
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; pid?: number; enginePid?: number });
    const adapterPid = lines.find((line) => line.msg === 'ingress open')?.pid;
    const enginePid = lines.find((line) => line.msg === 'engine launched')?.enginePid;
    if (adapterPid === undefined || enginePid === undefined) throw new Error(output);
    pids = [adapterPid, enginePid];

    child.kill(signal);
    expect(await exited).toBe(0);
    await waitFor(() => !isAlive(adapterPid) && !isAlive(enginePid), {
      timeoutMs: PROCESS_DEADLINE_MS,
      what: `adapter ${adapterPid} and engine ${enginePid} gone`,
    });
  },
);
