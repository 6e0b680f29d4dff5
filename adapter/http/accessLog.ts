import type { RequestHandler } from 'express';
import type { Logger } from '../logging/logger';
import type { AdapterStats } from '../stats/stats';
import { contextOf, identifierForLog } from './requestContext';

/**
 * Paths that pools and `docker run` probe every few seconds: one info line each would bury the
 * requests that matter. A probe that fails is logged at warn, as it is news.
 */
const PROBE_PATHS = new Set(['/health']);

/**
 * One log line per request with the fields an operator filters on. Written by hand rather
 * than with pino-http because that serialises whole requests and responses on the hot path;
 * this records a fixed handful of fields, including requests the client abandoned.
 * Request bodies (user code) are never logged.
 */
export function accessLog(logger: Logger, stats: AdapterStats): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const isProbe = req.method === 'GET' && PROBE_PATHS.has(req.path);
    const context = contextOf(res);
    context.identifier = identifierForLog(req);
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const aborted = !res.writableFinished;
      const status = aborted ? 499 : res.statusCode;
      stats.recordRequest(status, context.identifier);
      // A client that left is a client event, whatever the request was waiting on.
      if (aborted) {
        context.errorCode = 'client_closed_request';
        stats.recordError(context.errorCode);
      }
      const route = context.route ?? (req.route as { path?: string } | undefined)?.path;
      const line = {
        method: req.method,
        path: req.path,
        route: route ?? null,
        identifier: context.identifier ?? null,
        language: context.language ?? null,
        status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...(context.errorCode !== undefined && { error: context.errorCode }),
        ...(aborted && { aborted: true }),
      };
      if (status >= 500 || (isProbe && status >= 400)) logger.warn(line, 'request');
      else if (isProbe) logger.debug(line, 'request');
      else logger.info(line, 'request');
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
