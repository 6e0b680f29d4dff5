/**
 * A burst: 10,000 requests at 128 connections against 16 engine slots and a queue of 16, so
 * most of the time four in five connections are refused. Every request is answered, 200 or
 * 429 (none lost, none hung, nothing else), and the gate is back at zero afterwards.
 */
import { latenciesOf, runLoad } from '../../scripts/bench/support/load';
import type { AdapterProcess } from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';
import {
  BASH_EXECUTE_PATH,
  bashBody,
  maxOf,
  recordFigures,
  startWithLocalEngine,
  statusOf,
} from './support/harness';

const REQUESTS = 10_000;
const CONNECTIONS = 128;
/** Longer than any answer can take here: a request that reaches it counts as hung. */
const HUNG_AFTER_SECONDS = 20;

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

test(`${REQUESTS} requests at ${CONNECTIONS} connections: every one answered 200 or 429`, async () => {
  adapter = startWithLocalEngine({ MAX_CONCURRENT_JOBS: '16', QUEUE_MAX: '16' });
  const port = await adapter.ingressPort(30_000);

  const result = await runLoad({
    url: `http://127.0.0.1:${port}${BASH_EXECUTE_PATH}`,
    body: bashBody('true'),
    connections: CONNECTIONS,
    amount: REQUESTS,
    timeoutSeconds: HUNG_AFTER_SECONDS,
  });
  const ok = result.byStatus[200] ?? 0;
  const refused = result.byStatus[429] ?? 0;
  const failures = REQUESTS - ok - refused;
  const maxLatencyMs = maxOf(latenciesOf(result));
  recordFigures({
    name: 'burst',
    requests: REQUESTS,
    failures,
    maxLatencyMs,
    detail: `${ok} ran (200), ${refused} refused (429) at ${CONNECTIONS} connections in ${result.durationSeconds.toFixed(1)} s`,
  });

  expect({ errors: result.errors, timeouts: result.timeouts }).toEqual({ errors: 0, timeouts: 0 });
  expect(result.responses).toBe(REQUESTS);
  expect(
    Object.keys(result.byStatus).filter((status) => status !== '200' && status !== '429'),
  ).toEqual([]);
  // The engine was kept busy, not starved by the refusals.
  expect(ok).toBeGreaterThan(0);

  let gate = (await statusOf(port)).gate;
  await waitFor(
    async () => {
      gate = (await statusOf(port)).gate;
      return gate.inFlight === 0 && gate.queued === 0;
    },
    { timeoutMs: 5_000, what: `the gate to return to zero (${JSON.stringify(gate)})` },
  );
  expect(gate.admitted + gate.rejectedQueueFull).toBe(REQUESTS);
  expect(adapter.hasExited).toBe(false);
});
