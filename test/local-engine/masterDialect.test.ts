/**
 * LOCAL_ENGINE_DIALECT=master: the engine answers like Piston's current master (jobs in
 * isolate), which nobody could record here (it needs a privileged container with cgroup v2).
 * So: every main-server fixture still matches in the fields v3.1.1 had, and the fields master
 * adds say what master's job.js would say (status, message, in its key order); then the
 * validation and defaulting that differ between the two generations (api/v2.js).
 */
import { defineFixtureReplay } from '../support/fixtureReplay';
import type { PistonFixture } from '../support/fixtures';
import { V3_STAGE_KEYS, type Run } from '../support/localEngineConformance';
import { PROCESS_DEADLINE_MS, type EngineReply } from '../support/localEngine';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

/** A master stage's keys, in the order master's job.js builds them. */
const MASTER_STAGE_KEYS = [
  'signal',
  'stdout',
  'stderr',
  'code',
  'output',
  'memory',
  'message',
  'status',
  'cpu_time',
  'wall_time',
];

/**
 * Why each recorded kill happened (v3.1.1's replies do not say), as master reports it. Master
 * sets status TO on isolate's timeout, OL/EL when a stream passes the output limit.
 */
const KILLED_FOR: Record<string, 'TO' | 'OL' | 'EL'> = {
  c_infinite_loop: 'TO',
  python_infinite_loop: 'TO',
  python_infinite_loop_with_output: 'TO',
  python_sleep_custom_timeout_250: 'TO',
  python_sleep_custom_timeout_1500: 'TO',
  python_output_1025: 'OL',
  python_output_10mb: 'OL',
  python_output_10mb_lines: 'OL',
  python_stderr_10mb: 'EL',
};

const KILL_MESSAGES = {
  TO: 'Time limit exceeded (wall clock)',
  OL: 'stdout length exceeded',
  EL: 'stderr length exceeded',
};

/** Only the fields v3.1.1 had, in its order, for comparing with the recorded replies. */
const v3View = (stage: Run): Run =>
  Object.fromEntries(V3_STAGE_KEYS.filter((key) => key in stage).map((key) => [key, stage[key]]));

function expectMasterStages(fixture: PistonFixture, reply: EngineReply): void {
  // Only execute replies have stages; that they have them is checked against the fixture.
  const body = reply.json as { compile?: Run; run?: Run } | undefined;
  if (fixture.request.method !== 'POST' || body?.run === undefined) return;
  const stages = [body.compile, body.run].filter((stage) => stage !== undefined);
  for (const stage of stages) {
    expect(Object.keys(stage)).toEqual(MASTER_STAGE_KEYS);
    const killedFor = KILLED_FOR[fixture.name];
    const killed = stage === body.run && killedFor !== undefined;
    let expected: { status: string | null; message: string | null };
    if (killed) expected = { status: killedFor, message: KILL_MESSAGES[killedFor] };
    else if (stage.code !== 0) {
      expected = { status: 'RE', message: `Exited with error status ${stage.code}` };
    } else expected = { status: null, message: null };
    expect({ status: stage.status, message: stage.message, memory: stage.memory }).toEqual({
      ...expected,
      // Nothing here measures a job's memory the way isolate's cgroup does.
      memory: null,
    });
    // Timing fields: only their type; their values are this machine's.
    expect(stage.wall_time).toEqual(expect.any(Number));
    if (!killed) expect(stage.cpu_time).toEqual(expect.any(Number));
  }
  // master, too, answers a failed compile with `run` a copy of `compile` (api/v2.js).
  if (body.compile !== undefined && body.compile.code !== 0) expect(body.run).toEqual(body.compile);
}

const replay = defineFixtureReplay('main', {
  env: { LOCAL_ENGINE_DIALECT: 'master' },
  stageView: v3View,
  alsoCheck: expectMasterStages,
});

test('the kill reasons name exactly the fixtures whose run was killed', () => {
  const killed = replay.fixtures.filter(
    (f) => (f.body as { run?: { signal?: unknown } } | null)?.run?.signal === 'SIGKILL',
  );
  expect(killed.map((f) => f.name).sort()).toEqual(Object.keys(KILLED_FOR).sort());
});

test('it says which dialect it speaks', async () => {
  expect((await replay.engine.listening()).dialect).toBe('master');
});

const python = (content: string, extra: Record<string, unknown> = {}) => ({
  language: 'python',
  version: '*',
  files: [{ name: 'main.py', content }],
  ...extra,
});

describe('what master validates that v3.1.1 did not', () => {
  test.each([
    [{ run_cpu_time: 5000 }, 'run_cpu_time cannot exceed the configured limit of 3000'],
    [{ compile_cpu_time: 20000 }, 'compile_cpu_time cannot exceed the configured limit of 10000'],
    [{ run_cpu_time: -1 }, 'run_cpu_time must be non-negative'],
    [{ compile_cpu_time: 'fast' }, 'If specified, compile_cpu_time must be a number'],
  ])('%j: 400 with its message', async (limits, message) => {
    const reply = await replay.engine.execute(python('print(1)', limits));
    expect({ status: reply.status, body: reply.json }).toEqual({ status: 400, body: { message } });
  });

  test('a CPU time within the limit runs', async () => {
    const reply = await replay.engine.execute(python('print(1)', { run_cpu_time: 2000 }));
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ run: { stdout: '1\n', status: null } });
  });

  // master defaults with `??`, so a falsy stdin reaches the Job, whose `stdin.slice` throws: a
  // TypeError, which serialises as {}.
  test('stdin 0: 400 {}', async () => {
    const reply = await replay.engine.execute(python('print(1)', { stdin: 0 }));
    expect({ status: reply.status, body: reply.json }).toEqual({ status: 400, body: {} });
  });

  // ... and a falsy args reaches the run stage, whose spread of it throws: 500, empty.
  test('args 0: 500 with an empty body', async () => {
    const reply = await replay.engine.execute(python('print(1)', { args: 0 }));
    expect({ status: reply.status, text: reply.text }).toEqual({ status: 500, text: '' });
  });
});

test('a program killed by a signal exits through its run script: status RE, code 128+n', async () => {
  const reply = await replay.engine.execute(
    python('import os, signal\nprint("dying", flush=True)\nos.kill(os.getpid(), signal.SIGKILL)'),
  );
  expect(reply.status).toBe(200);
  expect(reply.json).toMatchObject({
    run: {
      signal: null,
      stdout: 'dying\n',
      code: 137,
      status: 'RE',
      message: 'Exited with error status 137',
    },
  });
});

test('a run whose run script is killed by a signal: status SG', async () => {
  const reply = await replay.engine.execute({
    language: 'bash',
    version: '*',
    files: [{ content: 'echo before\nkill -9 $PPID\nsleep 5' }],
  });
  expect(reply.status).toBe(200);
  expect(reply.json).toMatchObject({
    run: {
      signal: 'SIGKILL',
      stdout: 'before\n',
      code: null,
      status: 'SG',
      message: 'Caught fatal signal 9',
    },
  });
});
