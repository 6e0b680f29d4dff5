/**
 * The emulator's HTTP side: its own routes first (status, management, token check), then
 * everything else forwarded to the identifier's session. Built from its parts so tests run it
 * in-process with fake sessions.
 */
import express from 'express';
import type { Logger } from '../../adapter/logging/logger';
import { bearerToken } from './bearerToken';
import { Forwarder, forwardToSession } from './forwarding';
import { MANAGEMENT_PREFIX, managementRoutes } from './managementRoutes';
import { PoolError, poolErrorResponder } from './poolErrors';
import type { SessionPool } from './sessionPool';

export const STATUS_PATH = '/.pool/status';

export interface PoolAppOptions {
  pool: SessionPool;
  /** Bearer token callers must send; undefined: no check. */
  token: string | undefined;
  /** The pool's name, as stopSession reports it. */
  name: string;
  logger: Logger;
}

export interface PoolApp {
  app: express.Express;
  /** Drops the connections to sessions. */
  close(): Promise<void>;
}

export function createPoolApp({ pool, token, name, logger }: PoolAppOptions): PoolApp {
  const forwarder = new Forwarder(logger);
  pool.on('sessionGone', (_sessionId: string, port: number | null) => {
    if (port !== null) forwarder.forget(port);
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    // The pool's own lines (allocation, reuse, ...) say what matters; this is for debugging.
    if (!logger.isLevelEnabled('debug')) return next();
    const started = performance.now();
    res.once('finish', () =>
      logger.debug(
        {
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          durationMs: Math.round(performance.now() - started),
        },
        'request',
      ),
    );
    next();
  });
  // The emulator's own view, never forwarded and never behind the token: it is not Azure's.
  app.get(STATUS_PATH, (_req, res) => {
    res.status(200).json(pool.status());
  });
  app.use('/.pool', (req, _res, next) =>
    next(
      new PoolError(
        404,
        'NotFound',
        `the emulator has no ${req.method} ${req.originalUrl}; try GET ${STATUS_PATH}`,
      ),
    ),
  );
  app.use(bearerToken(token));
  app.use(MANAGEMENT_PREFIX, managementRoutes(pool, name));
  app.use(forwardToSession(pool, forwarder));
  app.use(poolErrorResponder(logger));
  return { app, close: () => forwarder.close() };
}
