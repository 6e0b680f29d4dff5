import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { match } from 'path-to-regexp';
import type { Logger } from '../logging/logger';
import type { AdapterStats } from '../stats/stats';
import { AdapterError } from '../errors/adapterError';
import { errors } from '../errors/errorTable';
import { sendJson } from './jsonReply';
import { contextOf, type RequestContext } from './requestContext';

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
  // Compiled once with express's own path syntax and matching rules (case-insensitive, a
  // trailing slash allowed). 'ANY' routes are prefixes served before this handler.
  const matchers = routes
    .filter((route) => route.method !== 'ANY')
    .map((route) => ({
      method: route.method,
      matches: match(route.path, { sensitive: false, decode: false }),
    }));
  return (req, _res, next) => {
    // Two routes may share a method and a path shape (/files/:name and /files/content/:name).
    const allowed = [
      ...new Set(
        matchers.filter((route) => route.matches(req.path) !== false).map((route) => route.method),
      ),
    ];
    if (allowed.length > 0) {
      return next(errors.method_not_allowed({ method: req.method, path: req.path, allowed }));
    }
    next(errors.route_not_found({ method: req.method, path: req.path, routes: listed }));
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
    const httpError = toAdapterError(error);
    if (httpError.status >= 500 && !(error instanceof AdapterError)) {
      logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error');
    }
    sendError(res, httpError, stats);
  };
}

/**
 * The one place an AdapterError becomes an HTTP answer: status, its headers, x-ms-error-code
 * (Azure's data plane sends it), the JSON body, and the count on GET /. Takes node's own
 * response too, for the passthrough's proxy errors, which come from outside express.
 */
export function sendError(res: ServerResponse, error: AdapterError, stats: AdapterStats): void {
  // express's response carries the request context; node's own (never here today) would not.
  const context = (res as Partial<Response>).locals as RequestContext | undefined;
  if (context !== undefined) context.errorCode = error.code;
  stats.recordError(error.code);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toBody(), { ...error.headers, 'x-ms-error-code': error.code });
}

/** body-parser's errors carry a `type`; map each to a status a client can act on. */
function toAdapterError(error: unknown): AdapterError {
  if (error instanceof AdapterError) return error;
  const type = (error as { type?: unknown } | null)?.type;
  const message = error instanceof Error ? error.message : String(error);
  switch (type) {
    case 'entity.parse.failed':
      return errors.invalid_json({ parserMessage: message });
    case 'entity.too.large':
      return errors.body_too_large({ limit: (error as { limit?: number }).limit });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return errors.unsupported_encoding({ message });
    case 'request.aborted':
      return errors.request_aborted({ what: 'request body' });
    case 'request.size.invalid':
      return errors.invalid_content_length({ message });
    default: {
      // Other http-errors from express or body-parser say their own status.
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return errors.bad_request({ message }, { status });
      }
      return errors.internal_error({ message });
    }
  }
}
