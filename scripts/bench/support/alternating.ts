/**
 * One request at a time, taking turns across several targets: each turn sends one request to
 * every target, in an order shuffled anew each turn. At one connection a difference of a
 * millisecond or two is the figure, and this machine's speed drifts by more than that within
 * a minute: runs of a few seconds per target, one after another, put the drift into the
 * difference. Taking turns request by request gives every target the same moments.
 *
 * Shuffled, not a fixed a, b, c: an engine's work on one request goes on after its answer
 * (Piston cleans up a job after sending its result), and in a fixed order each target would
 * always pay for the same neighbour's.
 */
import http from 'node:http';

/** As long as the bench's load runs wait on one request (support/load.ts). */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface AlternatingTarget {
  url: string;
  /** A JSON body, POSTed. */
  body: string;
}

export interface AlternatingResult {
  /** Milliseconds of each 200 answer, in the order sent. */
  latencies: number[];
  /** Answers other than 200, and requests that failed. */
  failures: number;
  /** Milliseconds spent waiting on this target's requests, all of them. */
  busyMs: number;
}

/**
 * `turns` requests to each target, one in flight at a time, each target on its own kept-alive
 * socket.
 */
export async function alternatingRequests(
  targets: readonly AlternatingTarget[],
  turns: number,
  requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<AlternatingResult[]> {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const results = targets.map(() => ({ latencies: [] as number[], failures: 0, busyMs: 0 }));
  try {
    for (let turn = 0; turn < turns; turn += 1) {
      for (const index of shuffled(targets.length)) {
        const target = targets[index] as AlternatingTarget;
        const result = results[index] as AlternatingResult;
        const started = performance.now();
        const status = await post(target, agents[index] as http.Agent, requestTimeoutMs).catch(
          () => 0,
        );
        const ms = performance.now() - started;
        result.busyMs += ms;
        if (status === 200) result.latencies.push(ms);
        else result.failures += 1;
      }
    }
  } finally {
    for (const agent of agents) agent.destroy();
  }
  return results;
}

/** 0 .. count-1 in a random order (Fisher-Yates). */
export function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [order[index], order[other]] = [order[other] as number, order[index] as number];
  }
  return order;
}

/** Resolves with the status once the whole answer is in; rejects when the request fails. */
function post(target: AlternatingTarget, agent: http.Agent, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      target.url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(target.body),
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      },
    );
    request.once('error', reject);
    // A target that never answers (a wedged engine) is a failure, not a bench that hangs.
    request.setTimeout(timeoutMs, () =>
      request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
    );
    request.end(target.body);
  });
}
