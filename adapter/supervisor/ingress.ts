import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientError } from '../http/clientErrors';
import type { Logger } from '../logging/logger';
import { settleWithin } from '../timing/deadline';
import { ResponseTracker } from './responseTracker';

/**
 * Server timeouts (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS). Executions
 * may run for minutes (MAX_TIMEOUT_SECONDS, compile included), so no timeout bounds the time
 * to answer; the engine bounds that. These bound the client:
 * - headersTimeout: a client that never finishes its headers (slow loris). On Node >= 18 it
 *   counts from a request's first byte, so an idle keep-alive connection is not cut by it.
 * - requestTimeout: time to receive a whole request, generous for large uploads.
 * - keepAliveTimeout: longer than the usual 60 s idle timeout of proxies in front, so the
 *   proxy, not us, closes idle connections (otherwise it may reuse one we just closed: 502).
 */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 65_000,
};

/**
 * How often node:http checks the two request timeouts. Its default, 30 s, would let a slow
 * client overstay a 20 s headers timeout by half a minute.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** Each open server's tracker, for closeIngress. */
const trackers = new WeakMap<http.Server, ResponseTracker>();

export interface Ingress {
  server: http.Server;
  /** The port actually bound (PORT=0 picks one). */
  port: number;
}

export async function openIngress(
  handler: http.RequestListener,
  host: string,
  port: number,
  timeouts: ServerTimeouts = DEFAULT_SERVER_TIMEOUTS,
): Promise<Ingress> {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, timeouts.headersTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  // Malformed requests and timed-out clients get a JSON error, as every other failure does.
  server.on('clientError', answerClientError);
  trackers.set(server, new ResponseTracker(server));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Gap between sweeps of connections that went idle after their last response. */
const IDLE_SWEEP_MS = 50;
/** After the grace period, how long forcibly closed connections may take to go. */
const FORCED_CLOSE_MS = 1_000;

/**
 * Stops accepting connections, lets requests in flight finish within `graceMs`, then closes
 * whatever is left. Resolves within graceMs + FORCED_CLOSE_MS.
 */
export async function closeIngress(
  server: http.Server,
  graceMs: number,
  inFlight: () => number,
  logger: Logger,
): Promise<void> {
  const started = performance.now();
  trackers.get(server)?.drain();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (;;) {
    // A keep-alive connection whose response has gone out would hold close() open until the
    // client leaves; close those as they turn idle. Busy ones are left to finish.
    server.closeIdleConnections();
    const remaining = graceMs - (performance.now() - started);
    if (remaining <= 0) break;
    if ((await settleWithin(closed, Math.min(IDLE_SWEEP_MS, remaining))).settled) {
      logger.info({ durationMs: Math.round(performance.now() - started) }, 'ingress drained');
      return;
    }
  }
  logger.warn(
    { graceMs, inFlight: inFlight() },
    'grace period over; closing remaining connections',
  );
  server.closeAllConnections();
  await settleWithin(closed, FORCED_CLOSE_MS);
}
