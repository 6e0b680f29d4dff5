import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logging/logger';
import type { AdapterStats } from '../stats/stats';
import { HttpError } from './httpError';
import { contextOf } from './requestContext';

export interface RouteDescription {
  method: string;
  path: string;
  description: string;
}

/**
 * Unknown paths name what was asked and what exists, so a caller never has to guess whether
 * the adapter is running or the route is wrong. A known path with the wrong method gets 405.
 */
export function routeNotFound(routes: RouteDescription[]): RequestHandler {
  const listed = routes.map((route) => `${route.method} ${route.path}`);
  return (req, _res, next) => {
    const allowed = routes
      .filter((route) => pathMatches(route.path, req.path))
      .map((route) => route.method);
    if (allowed.length > 0) {
      return next(
        new HttpError(
          405,
          'method_not_allowed',
          `${req.method} is not allowed on ${req.path}; use ${allowed.join(' or ')}`,
          { method: req.method, path: req.path, allowed },
          { allow: allowed.join(', ') },
        ),
      );
    }
    next(
      new HttpError(
        404,
        'route_not_found',
        `no route for ${req.method} ${req.path} on this adapter`,
        { method: req.method, path: req.path, routes: listed },
      ),
    );
  };
}

/** Turns every failure into JSON with a reason; unexpected ones are logged with their stack. */
export function errorResponder(logger: Logger, stats: AdapterStats): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    // The client already left, and the access log counted that: what failed after is nobody's answer.
    if (contextOf(res).errorCode === 'client_closed_request') {
      res.destroy();
      return;
    }
    const httpError = toHttpError(error);
    if (httpError.status >= 500 && !(error instanceof HttpError)) {
      logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    }
    contextOf(res).errorCode = httpError.code;
    stats.recordError(httpError.code);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(httpError.status).set(httpError.headers).set('x-ms-error-code', httpError.code);
    res.json(httpError.toBody());
  };
}

/** body-parser's errors carry a `type`; map each to a status a client can act on. */
function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const type = (error as { type?: unknown } | null)?.type;
  const message = error instanceof Error ? error.message : String(error);
  switch (type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', `request body is not valid JSON: ${message}`);
    case 'entity.too.large': {
      const limit = (error as { limit?: number }).limit;
      return new HttpError(
        413,
        'body_too_large',
        `request body is larger than the adapter's limit of ${limit} bytes`,
        { limit },
      );
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', message);
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'the client aborted the request body');
    case 'request.size.invalid':
      return new HttpError(400, 'invalid_content_length', message);
    default: {
      // Other http-errors from express or body-parser say their own status.
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return new HttpError(status, 'bad_request', message);
      }
      return new HttpError(500, 'internal_error', `the adapter failed unexpectedly: ${message}`);
    }
  }
}

function pathMatches(pattern: string, path: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('/')
      .map((segment) =>
        segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/')}/?$`,
    'i',
  );
  return regex.test(path);
}
