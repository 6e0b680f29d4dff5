/**
 * Why a call to the engine failed, in terms the HTTP side maps to a status:
 * - unreachable: nothing accepted the connection (engine down or not started): 503
 * - connection_lost: the engine dropped the connection mid-request (it died): 502
 * - timeout: no complete answer before the deadline: 504
 * - bad_status: the engine answered with an error status: 4xx passed on, 5xx as 502
 * - bad_response: the engine's answer was not the JSON it should be: 502
 * - aborted: we gave up (client left, or the engine was declared lost): no answer needed
 */
export type EngineFailureKind =
  'unreachable' | 'connection_lost' | 'timeout' | 'bad_status' | 'bad_response' | 'aborted';

export class EngineError extends Error {
  constructor(
    readonly kind: EngineFailureKind,
    message: string,
    readonly details: { status?: number; body?: unknown; cause?: unknown } = {},
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
// node:http's codes (the client is node:http, see httpExchange.ts). Our own deadline is not
// among them: pistonClient raises it as a 'timeout' EngineError itself.
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT']);

/** Turns whatever an engine call threw (node:http errors) into an EngineError, keeping the cause. */
export function classifyEngineFailure(
  error: unknown,
  signal: AbortSignal | undefined,
): EngineError {
  if (error instanceof EngineError) return error;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof EngineError) return reason;
    return new EngineError('aborted', 'the engine request was abandoned', { cause: reason });
  }
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (UNREACHABLE_CODES.has(code)) {
    return new EngineError('unreachable', `engine not reachable (${code})`, { cause: error });
  }
  if (LOST_CODES.has(code)) {
    return new EngineError('connection_lost', `engine closed the connection (${message})`, {
      cause: error,
    });
  }
  if (TIMEOUT_CODES.has(code)) {
    return new EngineError('timeout', `engine did not answer in time (${code})`, { cause: error });
  }
  return new EngineError('connection_lost', `engine request failed: ${message}`, { cause: error });
}
