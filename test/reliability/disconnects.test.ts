/**
 * Clients that disconnect mid-request, in rounds: some while their execution runs at the
 * engine, some while it waits in the queue, some through the /api/v2 passthrough. After each
 * round the gate is back at zero (no slot leaked), the adapter's open sockets are back where
 * they were (none leaked), and the service runs code at full width again.
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

    const gone = performance.now();
    let last = (await statusOf(port)).gate;
    await waitFor(
      async () => {
        last = (await statusOf(port)).gate;
        return last.inFlight === 0 && last.queued === 0;
      },
      { timeoutMs: 5_000, what: `round ${round}: the gate back at zero (${JSON.stringify(last)})` },
    );
    latencies.push(performance.now() - gone);
    // Slots really free: a full width of executions runs at once and succeeds. (The engine
    // may still be finishing the abandoned sleeps; these wait for its job slots, not ours.)
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
  recordFigures({
    name: 'disconnects',
    requests: disconnected,
    failures: 0,
    maxLatencyMs: maxOf(latencies),
    detail:
      `${ROUNDS} rounds of ${CLIENTS} clients gone mid-request; gate back to zero within ` +
      `${Math.round(maxOf(latencies))} ms; ${status.gate.abandonedInQueue} left the queue; ` +
      `open descriptors ${baselineFds} before, ${fds} after`,
  });
  expect(status.gate).toMatchObject({ inFlight: 0, queued: 0 });
  expect(running.hasExited).toBe(false);
});
