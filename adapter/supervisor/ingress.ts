import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger';
import { settleWithin } from './deadline';

/**
 * Server timeouts. Executions may run for minutes (MAX_TIMEOUT_SECONDS, compile included), so
 * no timeout bounds the time to answer; the engine bounds that. These bound the client:
 * - keepAliveTimeout: longer than the usual 60 s idle timeout of proxies in front, so the
 *   proxy, not us, closes idle connections (otherwise it may reuse one we just closed: 502).
 * - headersTimeout: above keepAliveTimeout (Node's long-standing advice), and a bound on
 *   clients that never finish their headers.
 * - requestTimeout: time to receive a whole request, generous for large uploads.
 */
export const SERVER_TIMEOUTS = {
  keepAliveTimeout: 65_000,
  headersTimeout: 66_000,
  requestTimeout: 300_000,
} as const;

export interface Ingress {
  server: http.Server;
  /** The port actually bound (PORT=0 picks one). */
  port: number;
}

export async function openIngress(
  handler: http.RequestListener,
  host: string,
  port: number,
): Promise<Ingress> {
  const server = http.createServer(handler);
  Object.assign(server, SERVER_TIMEOUTS);
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
