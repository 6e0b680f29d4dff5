/** Attach mode's state machine, with the health probe faked. */
import { loadConfig } from '../../adapter/config/config';
import { EngineState, type EngineSnapshot } from '../../adapter/engine/engineState';
import { createLogger } from '../../adapter/logging/logger';
import type { HealthProbe } from '../../adapter/supervisor/healthPoll';
import { createSupervisor, type Supervisor } from '../../adapter/supervisor/supervisor';
import { waitFor } from '../support/waitFor';

let answering: boolean;
/** Probes still to fail, whatever `answering` says (a slow probe, say). */
let failNext: number;
let probes: number;
let supervisor: Supervisor | undefined;
let engineState: EngineState;
let changes: EngineSnapshot[];

const probe: HealthProbe = async () => {
  probes += 1;
  if (failNext > 0) {
    failNext -= 1;
    return { ok: false, error: 'no answer within 50 ms' };
  }
  return answering ? { ok: true, runtimes: 3 } : { ok: false, error: 'ECONNREFUSED: connect' };
};

function start(env: Record<string, string> = {}) {
  const config = loadConfig({
    ENGINE_URL: 'http://engine.test:2001',
    ENGINE_HEALTH_INTERVAL_MS: '10',
    LOG_LEVEL: 'silent',
    ...env,
  });
  engineState = new EngineState({ mode: 'attached', url: config.engine.url });
  engineState.on('change', (snapshot) => changes.push(snapshot));
  supervisor = createSupervisor({
    config,
    engineState,
    logger: createLogger('silent'),
    probe,
    timing: { poll: { initialIntervalMs: 2, maxIntervalMs: 10, probeTimeoutMs: 50 } },
  });
  return supervisor.start();
}

beforeEach(() => {
  answering = true;
  failNext = 0;
  probes = 0;
  changes = [];
});

afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
});

test('moves between ready and degraded as the periodic check finds the engine', async () => {
  await expect(start()).resolves.toMatchObject({ ready: true });
  expect(engineState.snapshot()).toMatchObject({ state: 'ready', pid: null, generation: 1 });

  answering = false;
  await waitFor(() => engineState.snapshot().state === 'degraded', { what: 'degraded' });
  expect(engineState.snapshot().reason).toBe(
    'engine at http://engine.test:2001 stopped answering GET /api/v2/runtimes (3 checks in a row): ECONNREFUSED: connect',
  );

  answering = true;
  await waitFor(() => engineState.isReady(), { what: 'ready again' });
  expect(engineState.snapshot().generation).toBe(2);
});

test('not answering by the deadline: degraded with the reason, ready when it comes', async () => {
  answering = false;
  const outcome = await start({ ENGINE_START_TIMEOUT_MS: '50' });
  expect(outcome).toMatchObject({
    ready: false,
    reason:
      'engine at http://engine.test:2001 did not answer GET /api/v2/runtimes within 50 ms: ECONNREFUSED: connect',
  });
  expect(engineState.snapshot().state).toBe('degraded');

  answering = true;
  await waitFor(() => engineState.isReady(), { what: 'ready' });
});

test('stop: state stopping, and a start still waiting resolves as not ready', async () => {
  answering = false;
  const started = start();
  await supervisor?.stop();
  await expect(started).resolves.toMatchObject({ ready: false });
  expect(engineState.snapshot().state).toBe('stopping');
});

test('one or two failed checks in a row change nothing; the threshold does', async () => {
  await expect(start({ ENGINE_HEALTH_FAILURES: '3' })).resolves.toMatchObject({ ready: true });
  for (const failures of [1, 2]) {
    failNext = failures;
    const before = probes;
    // Past the failures and one good check after them.
    await waitFor(() => probes >= before + failures + 1, { what: `${failures} failed checks` });
    expect(engineState.snapshot()).toMatchObject({ state: 'ready', generation: 1 });
  }
  expect(changes.map((c) => c.state)).not.toContain('degraded');

  failNext = 3;
  await waitFor(() => engineState.snapshot().state === 'degraded', { what: 'degraded' });
  expect(engineState.snapshot().reason).toContain('(3 checks in a row): no answer within 50 ms');
  await waitFor(() => engineState.isReady(), { what: 'ready again' });
});
