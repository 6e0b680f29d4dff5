/** Who decided an answer: the adapter itself, or the engine behind it. */
export type ErrorSource = 'adapter' | 'engine';

/**
 * An answer the adapter gives instead of a result: one row of the error table
 * (errorTable.ts) filled in. The HTTP layer renders every one as JSON
 * {"error": {"code", "message", "source", ...details}}, so no failure is a bare status.
 * Domain code raises these without knowing anything of HTTP beyond the status number.
 */
export class AdapterError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
    readonly headers: Record<string, string>,
    readonly source: ErrorSource,
  ) {
    // No stack trace: an AdapterError is an answer, never logged with its stack, and capturing
    // one is the dearest part of a refusal (a 429 under overload must cost next to nothing).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AdapterError';
  }

  toBody() {
    return {
      error: { code: this.code, message: this.message, source: this.source, ...this.details },
    };
  }
}
