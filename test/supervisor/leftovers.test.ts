/**
 * What a dead engine leaves, and who holds its port, read from /proc with real processes:
 * the port-owner check the supervisor makes before taking an answer for the engine's, the
 * sweep of leftover job processes, and the whole story with the adapter and the local engine:
 * the engine SIGKILLed mid-job, its job gone before the new engine takes work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { killLeftovers } from '../../adapter/supervisor/leftoverJobs';
import { portOwner } from '../../adapter/supervisor/portOwner';
import { hasProcTable, listeningInodes, readProcess } from '../../adapter/supervisor/procTable';
import { isAlive, startAdapter, type AdapterProcess } from '../support/adapterProcess';
import { LOCAL_ENGINE_MAIN, PROCESS_DEADLINE_MS } from '../support/localEngine';
import { commandLine } from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';

jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const onLinux = hasProcTable() ? test : test.skip;
const children: ChildProcess[] = [];
let adapter: AdapterProcess | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  await adapter?.cleanup();
  adapter = undefined;
});

/** A process in a group of its own, like an engine or a job. */
function spawnGroup(args: string[]): ChildProcess {
  const child = spawn(args[0] as string, args.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

/** A server on a free loopback port, in its own group; resolves with its port. */
async function listeningGroup(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnGroup([
    process.execPath,
    '-e',
    "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))",
  ]);
  const port = await new Promise<number>((resolve) =>
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))),
  );
  return { child, port };
}

onLinux('a listening socket is found, and its holder told apart from any other group', async () => {
  const { child, port } = await listeningGroup();
  const pid = child.pid as number;
  expect(listeningInodes(port).size).toBe(1);
  expect(readProcess(pid)).toMatchObject({ pid, pgid: pid });
  expect(portOwner(port, pid)).toEqual({ kind: 'engine' });
  // Another group, e.g. the engine we launched while this one holds the port.
  const other = spawnGroup(['sleep', '30']);
  expect(portOwner(port, other.pid as number)).toEqual({ kind: 'other', pid });
});

onLinux('nothing listening: cannot tell, and says why', () => {
  expect(portOwner(1, process.pid)).toMatchObject({ kind: 'unknown' });
});

onLinux('leftovers: every process of the given groups is killed, and checked gone', async () => {
  const job = spawnGroup(['bash', '-c', 'sleep 30 & sleep 30 & wait']);
  const pgid = job.pid as number;
  await waitFor(() => {
    try {
      return (
        readFileSync(`/proc/${pgid}/task/${pgid}/children`, 'utf8').trim().split(' ').length === 2
      );
    } catch {
      return false;
    }
  });
  const bystander = spawnGroup(['sleep', '30']);
  const result = await killLeftovers({ uids: null, groups: [pgid] }, 3_000);
  expect(result.survivors).toEqual([]);
  expect(result.killed.length).toBe(3);
  expect(result.killed).toContain(pgid);
  expect(isAlive(bystander.pid as number)).toBe(true);
});

onLinux(
  'the engine SIGKILLed mid-job: its job is gone before the new engine takes work',
  async () => {
    adapter = startAdapter((dir) => ({
      ENGINE_COMMAND: commandLine(process.execPath, LOCAL_ENGINE_MAIN),
      LOCAL_ENGINE_LANGUAGES: 'bash',
      TMPDIR: dir,
      ENGINE_RESTART_MAX_BACKOFF_MS: '500',
    }));
    const running = adapter;
    await running.ingressPort(PROCESS_DEADLINE_MS);
    const [enginePid] = running.enginePids();
    if (enginePid === undefined) throw new Error(`no engine pid logged\n${running.describe()}`);
    const pidFile = path.join(running.tempDir, 'job.pid');

    const job = running.request(
      'POST',
      '/bash/execute',
      { properties: { code: `echo $$ > ${pidFile}; sleep 60`, timeoutInSeconds: 60 } },
      { timeoutMs: PROCESS_DEADLINE_MS },
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', {
      timeoutMs: PROCESS_DEADLINE_MS,
      what: 'the job to start',
    });
    const jobPid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(isAlive(jobPid)).toBe(true);

    process.kill(enginePid, 'SIGKILL');
    expect((await job).status).toBe(502);
    await running.waitForLog(
      (line) => line.msg === 'engine ready' && line.enginePid !== enginePid,
      {
        timeoutMs: PROCESS_DEADLINE_MS,
      },
    );
    expect(isAlive(jobPid)).toBe(false);
    const killedAt = running.logs.findIndex(
      (line) => line.msg === 'killed job processes the engine left behind',
    );
    const relaunchedAt = running.logs.findIndex(
      (line) => line.msg === 'engine launched' && line.enginePid !== enginePid,
    );
    expect(killedAt).toBeGreaterThanOrEqual(0);
    expect(killedAt).toBeLessThan(relaunchedAt);
    expect(running.logs[killedAt]).toMatchObject({ killed: expect.any(Number) });
  },
);
