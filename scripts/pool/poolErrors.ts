/**
 * The pool's own refusals, in the shape Azure's data plane uses:
 * `{"error": {"code", "message"}}` plus an `x-ms-error-code` header. Codes seen from real pools
 * are used where known (SessionRequestValidationFailed, SessionWithIdentifierNotFound,
 * SessionRequestNotSupported); the rest are this emulator's own. Clients match on the status.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../../adapter/logging/logger';

export class PoolError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'PoolError';
  }
}

export function sendPoolError(res: Response, error: PoolError): void {
  res
    .status(error.status)
    .set(error.headers)
    .set('x-ms-error-code', error.code)
    .json({ error: { code: error.code, message: error.message } });
}

export const poolErrors = {
  missingIdentifier: () =>
    new PoolError(
      400,
      'SessionRequestValidationFailed',
      "the query parameter 'identifier' is required: it names the session to use (4-128 characters)",
    ),
  /** Too many sessions: the status real pools have been seen to answer (older docs say 404). */
  poolFull: (maxSessions: number) =>
    new PoolError(
      429,
      'SessionPoolMaxSessionsReached',
      `the session pool already has its maximum of ${maxSessions} allocated sessions; ` +
        'stop one (POST /.management/stopSession) or wait for one to cool down',
    ),
  notFound: (identifier: string) =>
    new PoolError(
      400,
      'SessionWithIdentifierNotFound',
      `no session with identifier '${identifier}' in this pool`,
    ),
  notSupported: (method: string, path: string) =>
    new PoolError(
      400,
      'SessionRequestNotSupported',
      `${method} ${path} is not a management operation of this pool; ` +
        'use POST /.management/getSession, /.management/listSessions or /.management/stopSession',
    ),
};

/** Last in the chain: PoolErrors as themselves, anything else as a logged 500. */
export function poolErrorResponder(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const poolError =
      error instanceof PoolError
        ? error
        : new PoolError(
            500,
            'InternalServerError',
            `the pool failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
          );
    if (!(error instanceof PoolError)) {
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unexpected error');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendPoolError(res, poolError);
  };
}
