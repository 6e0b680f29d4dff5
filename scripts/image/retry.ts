/**
 * Bounded retries of transient network failures, for the image build: a build that gives up
 * at the first reset connection fails for nothing, one that retries forever never ends.
 */

export interface RetryOptions {
  /** Tries in all, the first one included. */
  attempts: number;
  /** Wait before the n-th retry (index 0 = first retry); the last value repeats. */
  delaysMs: readonly number[];
  /** Injected so tests never wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Told about every failed try that will be retried. */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

/** A failure worth another try: the network, not the request, was at fault. */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientError';
  }
}

/** Error codes Node reports for connections that failed on the way, not by refusal. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Messages that say the same, as Piston's node-fetch words them inside its own errors. */
const TRANSIENT_TEXT =
  /socket hang up|ECONNRESET|ETIMEDOUT|EAI_AGAIN|network timeout|premature close|other side closed/i;

/** True for errors (and their causes) that a retry may cure. */
export function isTransient(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current instanceof TransientError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    if (TRANSIENT_TEXT.test(current.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A readable account of an error and its causes ("fetch failed: socket hang up"). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    const text =
      typeof code === 'string' && !current.message.includes(code)
        ? `${current.message} (${code})`
        : current.message;
    if (!parts.includes(text)) parts.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `task` until it succeeds, fails for good, or has failed `attempts` times. */
export async function withRetries<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      if (attempt >= options.attempts || !isTransient(error)) throw error;
      const delays = options.delaysMs;
      const delayMs = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
      options.onRetry?.(error as Error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
