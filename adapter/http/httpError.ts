import type { EngineError } from '../piston/engineError';

/**
 * An answer the adapter gives instead of a result. Every one is JSON
 * {"error": {"code", "message", "source", ...details}}, so no failure is a bare status.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    /** Who decided: the adapter itself, or the engine behind it. */
    readonly source: 'adapter' | 'engine' = 'adapter',
  ) {
    // No stack trace: an HttpError is an answer, never logged with its stack, and capturing
    // one is the dearest part of a refusal (a 429 under overload must cost next to nothing).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'HttpError';
  }

  toBody() {
    return {
      error: { code: this.code, message: this.message, source: this.source, ...this.details },
    };
  }
}

/** Maps a failed engine call to the status an operator can act on. */
export function httpErrorFromEngine(error: EngineError): HttpError {
  switch (error.kind) {
    case 'unreachable':
      return new HttpError(
        503,
        'engine_unavailable',
        `the engine is not answering: ${error.message}`,
        {},
        { 'retry-after': '2' },
      );
    case 'timeout':
      return new HttpError(504, 'engine_timeout', error.message);
    case 'bad_status': {
      const status = error.details.status ?? 502;
      if (status >= 400 && status < 500) {
        return new HttpError(
          400,
          'engine_rejected_request',
          `the engine rejected the request: ${error.message}`,
          { engineStatus: status },
          {},
          'engine',
        );
      }
      return new HttpError(
        502,
        'engine_error',
        `the engine failed with status ${status}: ${error.message}`,
        { engineStatus: status },
        {},
        'engine',
      );
    }
    case 'bad_response':
      return new HttpError(502, 'engine_bad_response', error.message);
    case 'connection_lost':
    case 'aborted':
      return new HttpError(502, 'engine_connection_lost', error.message);
  }
}
