/**
 * The reasons the engine logged for jobs it failed. Piston answers such a job with an empty
 * 500 and writes why only to its log (contract section 5, "Opaque 500s"); the supervisor
 * reads the log and records them here, and an execution that got an empty 500 looks here for
 * its reason. Piston's answer does not name the job's uuid, so the reason taken is the most
 * recent one logged since the call was sent: with executions failing at the same moment, one
 * may carry another's reason (both are the engine's own words, named with their job).
 */
export interface JobError {
  uuid: string;
  reason: string;
  /** performance.now() when it was logged. */
  at: number;
}

const KEPT = 32;
const POLL_MS = 5;

export class EngineJobErrors {
  private readonly recent: JobError[] = [];

  record(uuid: string, reason: string): void {
    this.recent.push({ uuid, reason, at: performance.now() });
    if (this.recent.length > KEPT) this.recent.shift();
  }

  /** The latest reason logged at or after `since` (performance.now()), if any. */
  latestSince(since: number): JobError | null {
    for (let i = this.recent.length - 1; i >= 0; i -= 1) {
      const error = this.recent[i];
      if (error !== undefined && error.at >= since) return error;
    }
    return null;
  }

  /**
   * Waits up to `timeoutMs` for a reason logged since `since`: the log line travels through a
   * pipe, and may come just after the HTTP answer.
   */
  async waitSince(since: number, timeoutMs: number): Promise<JobError | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.latestSince(since);
      if (found !== null || performance.now() >= deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
