/**
 * The supervisor's state machine with the engine process mocked out (execa stays unloaded):
 * launch, health, restarts with backoff, degraded reasons, stop.
 */
import { loadConfig } from '../../adapter/config/config';
import { EngineState, type EngineSnapshot } from '../../adapter/engine/engineState';
import { createLogger } from '../../adapter/logging/logger';
import {
  launchEngineProcess,
  type EngineExitStatus,
  type EngineProcess,
  type LaunchOptions,
} from '../../adapter/supervisor/engineProcess';
import type { HealthProbe } from '../../adapter/supervisor/healthPoll';
import type { PortOwner } from '../../adapter/supervisor/portOwner';
import { createSupervisor, type Supervisor } from '../../adapter/supervisor/supervisor';
import { waitFor } from '../support/waitFor';

jest.mock('../../adapter/supervisor/engineProcess', () => ({ launchEngineProcess: jest.fn() }));
const launchMock = jest.mocked(launchEngineProcess);

/** Stands in for one engine process; the test decides when it answers and when it exits. */
class FakeEngine implements EngineProcess {
  readonly exited: Promise<EngineExitStatus>;
  readonly signals: string[] = [];
  answering = false;
  dead = false;
  /** Whether SIGTERM ends it (SIGKILL always does). */
  obeysSigterm = true;
  private resolveExit: (status: EngineExitStatus) => void = () => undefined;

  constructor(
    readonly pid: number,
    private readonly options: LaunchOptions,
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  signalGroup(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (signal === 'SIGKILL' || this.obeysSigterm) this.exit({ code: null, signal, error: null });
    return !this.dead;
  }

  say(stream: 'stdout' | 'stderr', line: string): void {
    this.options.onLine(stream, line, this.pid);
  }

  exit(status: EngineExitStatus): void {
    this.dead = true;
    this.resolveExit(status);
  }
}

let launched: FakeEngine[];
/** Applied to each engine as it is launched. */
let onLaunch: (engine: FakeEngine) => void;
let supervisor: Supervisor | undefined;
let engineState: EngineState;
let changes: EngineSnapshot[];

const probe: HealthProbe = async () => {
  const engine = launched.at(-1);
  return engine !== undefined && engine.answering && !engine.dead
    ? { ok: true, runtimes: 1 }
    : { ok: false, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:2001' };
};

function start(env: Record<string, string> = {}, restartBaseMs = 10): Promise<unknown> {
  return startWith({}, env, restartBaseMs);
}

function startWith(
  overrides: { probe?: HealthProbe; portOwner?: () => PortOwner },
  env: Record<string, string> = {},
  restartBaseMs = 10,
): Promise<unknown> {
  const config = loadConfig({
    ENGINE_COMMAND: 'piston --serve',
    ENGINE_PORT: '2001',
    ENGINE_START_TIMEOUT_MS: '60000',
    ENGINE_RESTART_MAX_BACKOFF_MS: '40',
    ENGINE_STOP_TIMEOUT_MS: '100',
    LOG_LEVEL: 'silent',
    ...env,
  });
  engineState = new EngineState({ mode: 'supervised', url: config.engine.url });
  engineState.on('change', (snapshot) => changes.push(snapshot));
  supervisor = createSupervisor({
    config,
    engineState,
    logger: createLogger('silent'),
    probe: overrides.probe ?? probe,
    ...(overrides.portOwner !== undefined && { portOwner: overrides.portOwner }),
    timing: {
      restartBaseMs,
      stableAfterMs: 60_000,
      poll: { initialIntervalMs: 2, maxIntervalMs: 10, lateIntervalMs: 10, probeTimeoutMs: 50 },
    },
  });
  return supervisor.start();
}

const state = () => engineState.snapshot();

beforeEach(() => {
  launched = [];
  changes = [];
  onLaunch = () => undefined;
  launchMock.mockReset();
  launchMock.mockImplementation(async (options) => {
    const engine = new FakeEngine(1000 + launched.length, options);
    launched.push(engine);
    onLaunch(engine);
    return engine;
  });
});

afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
});

test('launches with our limits as PISTON_* and goes ready once the engine answers', async () => {
  const started = start({ MAX_TIMEOUT_SECONDS: '30', DEFAULT_TIMEOUT_SECONDS: '30' });
  await waitFor(() => launched.length === 1 && state().pid === 1000, { what: 'the launch' });
  expect(launchMock.mock.calls[0]?.[0]).toMatchObject({
    command: 'piston --serve',
    env: {
      PISTON_BIND_ADDRESS: '127.0.0.1:2001',
      PISTON_RUN_TIMEOUT: '30000',
      PISTON_OUTPUT_MAX_SIZE: String(256 * 1024),
      PISTON_MAX_CONCURRENT_JOBS: '64',
    },
  });
  expect(state()).toMatchObject({ state: 'starting', reason: 'engine is starting (pid 1000)' });

  (launched[0] as FakeEngine).answering = true;
  await expect(started).resolves.toMatchObject({ ready: true, reason: null });
  expect(state()).toMatchObject({ state: 'ready', pid: 1000, generation: 1, restarts: 0 });
});

test('an exit after ready: restarting with reason, count and stderr tail, then ready again', async () => {
  onLaunch = (engine) => {
    engine.answering = true;
  };
  await start();
  const first = launched[0] as FakeEngine;
  first.say('stderr', 'TypeError: boom');
  first.say('stdout', 'not in the stderr tail');
  first.exit({ code: 3, signal: null, error: null });

  await waitFor(() => changes.some((c) => c.state === 'restarting'), { what: 'restarting' });
  // The first restarting snapshot: the relaunch may already have followed it.
  expect(changes.find((c) => c.state === 'restarting')).toMatchObject({
    pid: null,
    restarts: 1,
    lastExit: { code: 3, signal: null, stderrTail: ['TypeError: boom'] },
    reason: 'engine exited with code 3; last stderr: TypeError: boom; restart 1 in 10 ms',
  });

  await waitFor(() => state().state === 'ready', { what: 'ready again' });
  expect(launched).toHaveLength(2);
  expect(state()).toMatchObject({ pid: 1001, generation: 2, restarts: 1 });
  // While the relaunched engine came up, the reason still said why it had gone.
  expect(changes.map((c) => c.reason)).toContain(
    'engine relaunched (pid 1001) after: engine exited with code 3; last stderr: TypeError: boom; waiting for it to answer',
  );
});

test('an exit before the deadline: degraded at once, retried with capped backoff', async () => {
  onLaunch = (engine) => {
    engine.say('stderr', 'Combined cgroup v1+v2 mode is not supported');
    setImmediate(() => engine.exit({ code: 1, signal: null, error: null }));
  };
  const outcome = await start();
  // The deadline is a minute away: the exit itself ended the wait.
  expect(outcome).toEqual({
    ready: false,
    reason: 'engine exited with code 1; last stderr: Combined cgroup v1+v2 mode is not supported',
    durationMs: expect.any(Number),
  });
  expect((outcome as { durationMs: number }).durationMs).toBeLessThan(5_000);
  expect(state().state).toBe('degraded');

  await waitFor(() => launched.length >= 5, { what: 'five launches' });
  const delays = changes
    .map((c) => /; restart (\d+) in (\d+) ms$/.exec(c.reason ?? ''))
    .filter((match) => match !== null)
    .map((match) => Number(match[2]));
  expect(delays.slice(0, 4)).toEqual([10, 20, 40, 40]);
  // Never ready yet: each exit is shown as degraded, not as a restart of a working engine.
  expect(changes.some((c) => c.state === 'restarting' || c.state === 'ready')).toBe(false);
});

test('alive but silent past the deadline: degraded with the reason, ready once it answers', async () => {
  onLaunch = (engine) => engine.say('stderr', 'still initialising');
  const outcome = await start({ ENGINE_START_TIMEOUT_MS: '100' });
  expect(outcome).toMatchObject({ ready: false });
  const reason = state().reason ?? '';
  expect(state().state).toBe('degraded');
  expect(reason).toContain('engine did not answer GET /api/v2/runtimes within 100 ms');
  expect(reason).toContain('pid 1000 still running');
  expect(reason).toContain('ECONNREFUSED');
  expect(reason).toContain('last stderr: still initialising');

  (launched[0] as FakeEngine).answering = true;
  await waitFor(() => state().state === 'ready', { what: 'ready' });
  expect(launched).toHaveLength(1);
});

test('stop: SIGTERM to the group, SIGKILL after the stop timeout, nothing relaunched', async () => {
  onLaunch = (engine) => {
    engine.answering = true;
    engine.obeysSigterm = false;
  };
  await start();
  const stopStarted = performance.now();
  await supervisor?.stop();
  expect(performance.now() - stopStarted).toBeGreaterThanOrEqual(90);
  expect((launched[0] as FakeEngine).signals).toEqual(['SIGTERM', 'SIGKILL']);
  expect(state().state).toBe('stopping');
  expect(launched).toHaveLength(1);
});

test('stop during the restart backoff: nothing more is launched', async () => {
  onLaunch = (engine) => setImmediate(() => engine.exit({ code: 1, signal: null, error: null }));
  await start({ ENGINE_RESTART_MAX_BACKOFF_MS: '600000' }, 600_000);
  await supervisor?.stop();
  // stop() waits for the supervision loop to end, so no launch can follow.
  expect(launched).toHaveLength(1);
  expect(state().state).toBe('stopping');
});

test('stop while starting: start resolves as not ready and the engine is stopped', async () => {
  const started = start();
  await waitFor(() => launched.length === 1, { what: 'the launch' });
  await supervisor?.stop();
  await expect(started).resolves.toMatchObject({ ready: false });
  expect((launched[0] as FakeEngine).signals[0]).toBe('SIGTERM');
});

test('a command that cannot be spawned: degraded, saying so', async () => {
  launchMock.mockRejectedValue(new Error('spawn piston ENOENT'));
  const outcome = await start();
  expect(outcome).toMatchObject({
    ready: false,
    reason: expect.stringContaining('engine command could not be started: spawn piston ENOENT'),
  });
  expect(state()).toMatchObject({ state: 'degraded', lastExit: { code: null, signal: null } });
});

test('a wedged engine (alive, not answering) is killed after the threshold of checks and relaunched', async () => {
  onLaunch = (engine) => (engine.answering = true);
  await expect(
    start({ ENGINE_HEALTH_INTERVAL_MS: '5', ENGINE_HEALTH_FAILURES: '3' }),
  ).resolves.toMatchObject({ ready: true });
  const wedged = launched[0] as FakeEngine;
  wedged.answering = false;
  await waitFor(() => launched.length === 2 && state().state === 'ready', {
    what: 'the relaunched engine ready',
  });
  expect(wedged.signals).toContain('SIGKILL');
  const restart = changes.find((c) => c.state === 'restarting');
  expect(restart?.reason).toMatch(
    /^engine stopped answering GET \/api\/v2\/runtimes \(3 checks in a row, last: ECONNREFUSED/,
  );
});

test('a port taken by another process: said so on every relaunch, and its holder is never the engine', async () => {
  // The port's holder answers every probe; the engine itself dies with EADDRINUSE.
  const holderAnswers: HealthProbe = async () => ({ ok: true, runtimes: 1 });
  onLaunch = (engine) =>
    setImmediate(() => {
      engine.say('stderr', 'Error: listen EADDRINUSE: address already in use 127.0.0.1:2001');
      engine.exit({ code: 1, signal: null, error: null });
    });
  const outcome = startWith({
    probe: holderAnswers,
    portOwner: () => ({ kind: 'other', pid: 4242 }),
  });
  await expect(outcome).resolves.toMatchObject({ ready: false });
  await waitFor(() => launched.length >= 3, { what: 'retries' });
  expect(state().state).toBe('degraded');
  // Whether between launches ("restart N in M ms") or during one ("relaunched after: ..."),
  // the reason says the port is taken.
  expect(state().reason).toContain(
    'engine port 127.0.0.1:2001 is taken by another process (engine exited with code 1; last stderr: Error: listen EADDRINUSE',
  );
  expect(changes.some((c) => c.state === 'ready')).toBe(false);
});

test('a probe answered by a process outside the engine group does not make the engine ready', async () => {
  let owner: PortOwner = { kind: 'other', pid: 4242 };
  const holderAnswers: HealthProbe = async () => ({ ok: true, runtimes: 1 });
  const outcome = startWith(
    { probe: holderAnswers, portOwner: () => owner },
    { ENGINE_START_TIMEOUT_MS: '100' },
  );
  await expect(outcome).resolves.toMatchObject({ ready: false });
  expect(state().reason).toContain(
    "engine port 127.0.0.1:2001 is taken by another process (pid 4242, not the engine's pid 1000)",
  );
  owner = { kind: 'engine' };
  await waitFor(() => state().state === 'ready', { what: 'ready once the engine holds its port' });
});
