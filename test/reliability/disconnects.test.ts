/**
 * Clients that disconnect mid-request, in rounds: some while their execution runs at the
 * engine, some while it waits in the queue, some through the /api/v2 passthrough. After each
 * round the gate is back at zero (no slot leaked), the adapter's open sockets are back where
 * they were (none leaked), and the service runs code at full width again. Piston runs a job
 * whose client left to its end, so a departed client's slot is held until then: the engine's
 * own count of the jobs it holds (the local engine's GET /local-engine/jobs) never passes
 * MAX_IN_FLIGHT, however many clients leave.
 */
import http from 'node:http';
import { openFds } from '../../scripts/bench/support/proc';
import type { AdapterProcess } from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';
import {
  BASH_EXECUTE_PATH,
  bashBody,
  exchange,
  maxOf,
  recordFigures,
  startWithLocalEngine,
  statusOf,
} from './support/harness';

const SLOTS = 8;
const ROUNDS = 5;
/** Per round: every slot, a full queue, and some refused. */
const CLIENTS = SLOTS * 3;
/** Sockets the adapter may hold beyond its baseline once idle (kept-alive engine connections). */
const FD_SLACK = SLOTS + 4;

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

/** The local engine's own job counts (its GET /local-engine/jobs). */
async function jobsAtEngine(engineUrl: string): Promise<{ peakHeld: number; running: number }> {
  const url = new URL(engineUrl);
  const reply = await exchange(Number(url.port), {
    method: 'GET',
    path: '/local-engine/jobs',
    timeoutMs: 5_000,
  });
  expect(reply.status).toBe(200);
  return JSON.parse(reply.text) as { peakHeld: number; running: number };
}

/** Sends a request and hands back the socket, to be destroyed mid-request. */
function startRequest(port: number, path: string, body: string): Promise<http.ClientRequest> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    // Destroyed on purpose; the errors that follow are expected.
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    req.end(body, () => resolve(req));
  });
}

test(`clients disconnecting mid-request, ${ROUNDS} rounds: the gate returns to zero, no socket leaks`, async () => {
  adapter = startWithLocalEngine({
    MAX_CONCURRENT_JOBS: String(SLOTS),
    QUEUE_MAX: String(SLOTS),
  });
  const running = adapter;
  const port = await running.ingressPort(30_000);
  const execute = () =>
    exchange(port, {
      method: 'POST',
      path: BASH_EXECUTE_PATH,
      body: bashBody('true'),
      timeoutMs: 10_000,
    });
  for (let i = 0; i < SLOTS; i += 1) expect((await execute()).status).toBe(200);
  const baselineFds = openFds(running.pid);

  let disconnected = 0;
  const latencies: number[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const pistonBody = JSON.stringify({
      language: 'bash',
      version: '*',
      files: [{ content: 'sleep 2' }],
    });
    const requests = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        i % 4 === 3
          ? startRequest(port, '/api/v2/execute', pistonBody)
          : startRequest(port, BASH_EXECUTE_PATH, bashBody('sleep 2')),
      ),
    );
    // Every slot taken and the queue full: the rest were refused with 429.
    await waitFor(
      async () => {
        const { gate } = await statusOf(port);
        return gate.inFlight === SLOTS && gate.queued === SLOTS;
      },
      { timeoutMs: 10_000, what: `round ${round}: every slot and the queue taken` },
    );
    for (const req of requests) req.destroy();
    disconnected += requests.length;
    // The departed executions are still at the engine: their slots are still held.
    expect((await statusOf(port)).gate.inFlight).toBe(SLOTS);

    const gone = performance.now();
    let last = (await statusOf(port)).gate;
    await waitFor(
      async () => {
        last = (await statusOf(port)).gate;
        return last.inFlight === 0 && last.queued === 0;
      },
      // The abandoned jobs sleep 2 s at the engine before their slots come back.
      {
        timeoutMs: 15_000,
        what: `round ${round}: the gate back at zero (${JSON.stringify(last)})`,
      },
    );
    latencies.push(performance.now() - gone);
    // Slots really free: a full width of executions runs at once and succeeds.
    const replies = await Promise.all(Array.from({ length: SLOTS }, execute));
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
  }

  let fds = openFds(running.pid);
  await waitFor(
    () => {
      fds = openFds(running.pid);
      return fds <= baselineFds + FD_SLACK;
    },
    { timeoutMs: 10_000, what: `open descriptors back near ${baselineFds} (now ${fds})` },
  );
  const status = await statusOf(port);
  const engineJobs = await jobsAtEngine(status.engine.url);
  recordFigures({
    name: 'disconnects',
    requests: disconnected,
    failures: 0,
    maxLatencyMs: maxOf(latencies),
    detail:
      `${ROUNDS} rounds of ${CLIENTS} clients gone mid-request; gate back to zero within ` +
      `${Math.round(maxOf(latencies))} ms; ${status.gate.abandonedInQueue} left the queue; ` +
      `open descriptors ${baselineFds} before, ${fds} after; at most ${engineJobs.peakHeld} ` +
      `jobs at the engine at once (MAX_IN_FLIGHT ${SLOTS})`,
  });
  expect(engineJobs.peakHeld).toBeLessThanOrEqual(SLOTS);
  // Each departure is logged as the client's doing, never as an engine failure.
  const requestLines = running.logs.filter((line) => line.msg === 'request');
  const departures = requestLines.filter((line) => line.status === 499);
  expect(departures.length).toBeGreaterThan(0);
  for (const line of departures) expect(line.error).toBe('client_closed_request');
  expect(requestLines.filter((line) => line.error === 'engine_connection_lost')).toEqual([]);
  expect(status).toMatchObject({ errorsByCode: { client_closed_request: departures.length } });
  expect(engineJobs.peakHeld).toBe(SLOTS);
  expect(status.gate).toMatchObject({ inFlight: 0, queued: 0 });
  expect(running.hasExited).toBe(false);
});
