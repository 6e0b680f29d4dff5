/**
 * SIGTERM under load: every request the adapter had taken in when the signal came (running
 * at the engine or waiting in the queue, on a fresh connection or a kept-alive one) completes
 * with 200; later requests are turned away at the door, never cut off mid-way; the adapter
 * exits 0 with the engine gone.
 */
import { waitUntilGone, type AdapterProcess } from '../support/adapterProcess';
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
  type Outcome,
} from './support/harness';

const SLOTS = 8;
/** Long requests: every slot busy, and some waiting behind them, when the signal comes. */
const LONG_REQUESTS = 12;
/** Clients sending one request after another on kept-alive connections. */
const KEEP_ALIVE_CLIENTS = 4;

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

test('SIGTERM under load: no request in flight fails; exit 0', async () => {
  adapter = startWithLocalEngine({
    MAX_CONCURRENT_JOBS: String(SLOTS),
    QUEUE_MAX: String(LONG_REQUESTS + KEEP_ALIVE_CLIENTS),
    QUEUE_WAIT_MS: '20000',
    SHUTDOWN_GRACE_MS: '20000',
  });
  const running = adapter;
  const port = await running.ingressPort(30_000);
  const enginePid = (await statusOf(port)).engine.pid;

  const send = async (): Promise<Outcome> => {
    const startedAt = performance.now();
    try {
      const answer = await exchange(port, {
        method: 'POST',
        path: BASH_EXECUTE_PATH,
        // Long enough to be running (or queued) when the signal comes.
        body: bashBody('sleep 1; echo done'),
        timeoutMs: 20_000,
      });
      return { status: answer.status, latencyMs: performance.now() - startedAt, startedAt };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: 0, latencyMs: performance.now() - startedAt, error: message, startedAt };
    }
  };
  const gateShows = (inFlight: number, queued: number) =>
    waitFor(
      async () => {
        const { gate } = await statusOf(port);
        return gate.inFlight === inFlight && gate.queued === queued;
      },
      { timeoutMs: 10_000, what: `${inFlight} running and ${queued} queued` },
    );

  const long = Array.from({ length: LONG_REQUESTS }, send);
  await gateShows(SLOTS, LONG_REQUESTS - SLOTS);
  const load = new Load(
    port,
    KEEP_ALIVE_CLIENTS,
    () => ({
      method: 'POST',
      path: BASH_EXECUTE_PATH,
      body: bashBody('true'),
      timeoutMs: 20_000,
    }),
    { pauseAfterRefusalMs: 20 },
  );
  // Each keep-alive client's first request is waiting behind the long ones.
  await gateShows(SLOTS, LONG_REQUESTS - SLOTS + KEEP_ALIVE_CLIENTS);

  running.child.kill('SIGTERM');
  await running.waitForMessage('shutdown started');
  // New connections after the signal are refused: nobody will serve them.
  const late = await Promise.all(Array.from({ length: 4 }, send));
  const longOutcomes = await Promise.all(long);
  const exit = await running.waitForExit(30_000);
  const keptAlive = await load.stop();

  // Each keep-alive client's first request was in the queue at the signal.
  const firsts = Array.from({ length: KEEP_ALIVE_CLIENTS }, (_, worker) =>
    keptAlive.find((o) => o.worker === worker),
  ).filter((o): o is Outcome => o !== undefined);
  const takenIn = [...longOutcomes, ...firsts];
  const failures = takenIn.filter((o) => o.status !== 200);
  // Whatever the adapter answered was served; the rest never got in (refused, or the
  // keep-alive race on a connection it was closing), none was cut off half-way.
  const turnedAway = keptAlive.filter((o) => !firsts.includes(o));
  const badlyTurnedAway = turnedAway.filter(
    (o) =>
      (o.status !== 0 && o.status !== 200) ||
      (o.status === 0 && !/ECONNREFUSED|on a reused connection/.test(o.error ?? '')),
  );
  recordFigures({
    name: 'SIGTERM under load',
    requests: takenIn.length,
    failures: failures.length + badlyTurnedAway.length,
    maxLatencyMs: maxOf(takenIn.map((o) => o.latencyMs)),
    detail:
      `taken in before the signal: ${countBy(takenIn, (o) => o.status)}; ` +
      `after it: ${countBy([...turnedAway, ...late], (o) => (o.status === 0 ? 'turned away' : o.status))}`,
  });
  expect(firsts).toHaveLength(KEEP_ALIVE_CLIENTS);
  expect(failures).toEqual([]);
  expect(badlyTurnedAway).toEqual([]);
  expect(late.every((o) => o.status === 0 && /ECONNREFUSED/.test(o.error ?? ''))).toBe(true);
  expect(exit).toEqual({ code: 0, signal: null });
  if (enginePid !== null) await waitUntilGone(enginePid);
});
