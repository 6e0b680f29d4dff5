/**
 * Against a real Piston, when one is given (CI has none; every test here is then skipped,
 * and says so in its name):
 * - REAL_PISTON_URL: a Piston someone else runs, as users who point ENGINE_URL at their own
 *   Piston container do; started with its default limits, it takes runs of 3 s at most.
 * - REAL_PISTON_CMD: a command that runs Piston in the foreground and honours
 *   PISTON_BIND_ADDRESS; the adapter launches it (as root: Piston runs jobs as runner uids).
 */
import { listProcesses } from '../../adapter/supervisor/procTable';
import { findFreePort } from '../../adapter/supervisor/freePort';
import { startAdapter, type AdapterProcess } from '../support/adapterProcess';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';
import { waitFor } from '../support/waitFor';

jest.setTimeout(6 * PROCESS_DEADLINE_MS);

const url = process.env.REAL_PISTON_URL;
const command = process.env.REAL_PISTON_CMD;
const RUNNER_UIDS = { min: 1001, max: 1500 };

let adapter: AdapterProcess | undefined;
afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

interface Answer {
  properties: Record<string, unknown> & { timeoutClamp?: Record<string, unknown> };
}
interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

const attached = url === undefined ? describe.skip : describe;
const launched = command === undefined ? describe.skip : describe;

// Said plainly, where jest shows it, rather than only as a count of skipped tests.
if (url === undefined || command === undefined) {
  // eslint-disable-next-line no-console -- the one place a skip must be seen
  console.log(
    [
      url === undefined &&
        'REAL_PISTON_URL is not set: the attach-mode real-Piston tests were skipped',
      command === undefined &&
        'REAL_PISTON_CMD is not set: the launch-mode real-Piston tests were skipped',
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

attached(`attached to the real Piston at ${url ?? '(unset)'}`, () => {
  test('default requests succeed within its limit, said in the answer; bad input is 400', async () => {
    adapter = startAdapter({ ENGINE_URL: url as string });
    const running = adapter;
    await running.ingressPort(PROCESS_DEADLINE_MS);
    for (let i = 0; i < 3; i += 1) {
      const reply = await running.execute(`print(${i})`);
      expect(reply.status).toBe(200);
      expect((reply.json as Answer).properties).toMatchObject({
        status: 'Success',
        stdout: `${i}\n`,
      });
    }
    const metadata = await running.request('GET', '/metadata');
    const limit = (metadata.json as { engineLimits: { runTimeoutMs: { value: number } } })
      .engineLimits.runTimeoutMs;
    expect(limit).toMatchObject({ source: 'learned' });
    const clamped = await running.execute('print(1)');
    expect((clamped.json as Answer).properties.timeoutClamp).toMatchObject({
      by: 'engine',
      appliedSeconds: limit.value / 1000,
    });

    const nul = await running.request('POST', '/python/execute', {
      properties: { code: 'print(1)', args: ['a\u0000b'] },
    });
    expect(nul.status).toBe(400);
    expect((nul.json as ErrorBody).error.field).toBe('properties.args.0');
  });
});

launched(`launching the real Piston with ${command ?? '(unset)'}`, () => {
  const runnerProcesses = () =>
    listProcesses().filter(
      (p) =>
        p.state !== 'Z' &&
        ((p.ruid >= RUNNER_UIDS.min && p.ruid <= RUNNER_UIDS.max) ||
          (p.euid >= RUNNER_UIDS.min && p.euid <= RUNNER_UIDS.max)),
    );

  test('killed mid-job: no runner-uid process survives into the relaunched engine', async () => {
    const port = await findFreePort();
    adapter = startAdapter({
      ENGINE_COMMAND: command as string,
      ENGINE_PORT: String(port),
      ENGINE_JOB_UIDS: `${RUNNER_UIDS.min}-${RUNNER_UIDS.max}`,
      ENGINE_RESTART_MAX_BACKOFF_MS: '500',
    });
    const running = adapter;
    await running.ingressPort(PROCESS_DEADLINE_MS);
    const first = await running.execute('print(6*7)');
    expect(first.status).toBe(200);
    expect((first.json as Answer).properties).toMatchObject({ stdout: '42\n' });
    expect((first.json as Answer).properties).not.toHaveProperty('timeoutClamp');

    const [enginePid] = running.enginePids();
    if (enginePid === undefined) throw new Error(running.describe());
    const job = running.execute('import time\ntime.sleep(60)', { timeoutMs: PROCESS_DEADLINE_MS });
    await waitFor(() => runnerProcesses().length > 0, {
      timeoutMs: PROCESS_DEADLINE_MS,
      what: 'the job to run as a runner uid',
    });
    process.kill(enginePid, 'SIGKILL');
    expect((await job).status).toBe(502);
    await running.waitForLog(
      (line) => line.msg === 'engine ready' && line.enginePid !== enginePid,
      {
        timeoutMs: PROCESS_DEADLINE_MS,
      },
    );
    expect(runnerProcesses()).toEqual([]);
    expect(
      running.logs.some((line) => line.msg === 'killed job processes the engine left behind'),
    ).toBe(true);
    const after = await running.execute('print(1)');
    expect(after.status).toBe(200);

    // Its log: entries with a level and a module, no escape codes, per-job lines below info.
    const engineLines = running.logs.filter((line) => line.source === 'engine');
    expect(
      engineLines.find((line) => String(line.msg).startsWith('API server started on')),
    ).toMatchObject({ module: 'index', level: 30 });
    expect(engineLines.filter((line) => String(line.msg).includes('\u001b'))).toEqual([]);
    for (const line of engineLines.filter((l) => String(l.module).startsWith('job/'))) {
      expect(line.level).toBeLessThan(30);
    }
  });
});
