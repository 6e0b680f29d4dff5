/**
 * The engine SIGKILLed ten times under load. Every request is answered within its deadline
 * (queue wait + run timeout + engine margin) plus one second, with 200, or 502 (it was at the
 * engine when it died), or 503 (the engine was restarting, or the queue wait ran out), or
 * 429; and after each restart the service is healthy and runs code again.
 */
import type { AdapterProcess } from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';
import {
  BASH_EXECUTE_PATH,
  bashBody,
  countBy,
  exchange,
  Load,
  maxOf,
  recordFigures,
  startWithLocalEngine,
  statusOf,
} from './support/harness';

const KILLS = 10;
/** As many as the slots plus the queue: 429 only while slots are lost to a dying engine. */
const WORKERS = 16;
const RUN_TIMEOUT_SECONDS = 2;
const QUEUE_WAIT_MS = 2_000;
const DEADLINE_MARGIN_MS = 1_000;
/** The longest an answer may take: its whole deadline, plus the second the issue allows. */
const ANSWER_WITHIN_MS = QUEUE_WAIT_MS + RUN_TIMEOUT_SECONDS * 1000 + DEADLINE_MARGIN_MS + 1_000;
/** Successful executions to see after each restart before the next kill. */
const OK_AFTER_RESTART = 5;

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

test(`engine SIGKILLed ${KILLS} times under load: every request answered in time`, async () => {
  adapter = startWithLocalEngine({
    MAX_CONCURRENT_JOBS: '8',
    QUEUE_MAX: '8',
    QUEUE_WAIT_MS: String(QUEUE_WAIT_MS),
    ENGINE_DEADLINE_MARGIN_MS: String(DEADLINE_MARGIN_MS),
    // Restarts back off exponentially; keep them quick so ten fit in the run.
    ENGINE_RESTART_MAX_BACKOFF_MS: '500',
  });
  const running = adapter;
  const port = await running.ingressPort(30_000);

  const load = new Load(
    port,
    WORKERS,
    () => ({
      method: 'POST',
      path: BASH_EXECUTE_PATH,
      // A short sleep keeps executions at the engine when it dies.
      body: bashBody('sleep 0.05', RUN_TIMEOUT_SECONDS),
      timeoutMs: ANSWER_WITHIN_MS,
    }),
    { pauseAfterRefusalMs: 20 },
  );
  const healthChecks: number[] = [];
  try {
    for (let kill = 1; kill <= KILLS; kill += 1) {
      // Healthy: /health says so, and executions succeed again since the last restart.
      const since = performance.now();
      await waitFor(
        async () =>
          (await exchange(port, { method: 'GET', path: '/health', timeoutMs: 2_000 })).status ===
            200 && load.since(since).filter((o) => o.status === 200).length >= OK_AFTER_RESTART,
        {
          timeoutMs: 15_000,
          what: `the service healthy before kill ${kill}\n${running.describe()}`,
        },
      );
      healthChecks.push(kill);
      const pid = (await statusOf(port)).engine.pid;
      if (pid === null) throw new Error(`no engine pid before kill ${kill}`);
      process.kill(pid, 'SIGKILL');
      await running.waitForLog((line) => line.msg === 'engine launched' && line.enginePid !== pid, {
        timeoutMs: 15_000,
        what: `the engine relaunched after kill ${kill}`,
      });
    }
    const since = performance.now();
    await waitFor(
      async () =>
        (await exchange(port, { method: 'GET', path: '/health', timeoutMs: 2_000 })).status ===
          200 && load.since(since).filter((o) => o.status === 200).length >= OK_AFTER_RESTART,
      { timeoutMs: 15_000, what: `the service healthy after the last kill\n${running.describe()}` },
    );
  } finally {
    await load.stop();
  }

  const outcomes = load.outcomes;
  const allowed = new Set([200, 429, 502, 503]);
  const failures = outcomes.filter((o) => !allowed.has(o.status) || o.latencyMs > ANSWER_WITHIN_MS);
  const status = await statusOf(port);
  recordFigures({
    name: 'engine kills',
    requests: outcomes.length,
    failures: failures.length,
    maxLatencyMs: maxOf(outcomes.map((o) => o.latencyMs)),
    restarts: status.engine.restarts,
    detail: `${countBy(outcomes, (o) => o.status)}; deadline ${ANSWER_WITHIN_MS} ms`,
  });

  expect(failures.slice(0, 5)).toEqual([]);
  // Every refusal says why, as JSON.
  expect(outcomes.filter((o) => o.status >= 400 && o.code?.startsWith('('))).toEqual([]);
  expect(healthChecks).toHaveLength(KILLS);
  expect(status.engine).toMatchObject({ state: 'ready', restarts: KILLS });
  let gate = status.gate;
  await waitFor(
    async () => {
      gate = (await statusOf(port)).gate;
      return gate.inFlight === 0 && gate.queued === 0;
    },
    { timeoutMs: 5_000, what: `the gate to return to zero (${JSON.stringify(gate)})` },
  );
  expect(running.hasExited).toBe(false);
});
