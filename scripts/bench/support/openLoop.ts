/**
 * Requests at a fixed rate whatever the answers (an open loop), for the overload section.
 * autocannon is closed-loop: each connection waits for its answer before sending again, so
 * refused connections re-send at once and what a 429 "costs" becomes their own queue. Real
 * bursts arrive on their own schedule; this sends them so.
 */
import http from 'node:http';
import type { LoadResult } from './load';

export interface OpenLoopOptions {
  url: string;
  body: string;
  ratePerSecond: number;
  durationSeconds: number;
}

/** Gap between scheduling ticks; each sends the requests that fell due since the last. */
const TICK_MS = 1;
/**
 * Connections opened (and kept) before the clock starts. Opening hundreds at once mid-run
 * overflows the listen backlog, and a dropped SYN is retried after 1 s, then 3 s: that would
 * be measured as the server's latency.
 */
const WARM_SOCKETS = 256;

export async function runOpenLoop(options: OpenLoopOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  // Enough sockets, all open before the clock starts, that arrivals never wait for one.
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: WARM_SOCKETS,
    maxFreeSockets: WARM_SOCKETS,
  });
  await Promise.all(
    Array.from(
      { length: WARM_SOCKETS },
      () =>
        new Promise<void>((resolve) => {
          // Any quick answer will do: GET on an execute route is a 405.
          const req = http.get(
            { host: target.hostname, port: target.port, path: target.pathname, agent },
            (res) => {
              res.resume();
              res.on('end', resolve);
            },
          );
          req.on('error', () => resolve());
        }),
    ),
  );
  const latencies = new Map<number, number[]>();
  let errors = 0;
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const send = () => {
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(options.body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let list = latencies.get(status);
            if (list === undefined) latencies.set(status, (list = []));
            list.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(options.body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };

  const began = performance.now();
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(
        total,
        Math.floor(((performance.now() - began) / 1000) * options.ratePerSecond),
      );
      while (sent < due) {
        send();
        sent += 1;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  const durationSeconds = (performance.now() - began) / 1000;
  const byStatus: Record<number, number> = {};
  let responses = 0;
  for (const [status, list] of latencies) {
    byStatus[status] = list.length;
    responses += list.length;
  }
  return {
    responses,
    errors,
    timeouts: 0,
    durationSeconds,
    rps: responses / durationSeconds,
    byStatus,
    latencies,
  };
}
