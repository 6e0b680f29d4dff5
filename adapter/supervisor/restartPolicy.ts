/**
 * Capped exponential backoff between engine launches. An engine that crashes at once (say,
 * Piston refusing the container's cgroup setup) is relaunched ever more slowly, so it cannot
 * spin a core; one that ran fine for a while and then died is relaunched quickly again.
 */
export class RestartPolicy {
  private consecutiveFailures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    /** A run ready at least this long counts as healthy and resets the backoff. */
    private readonly stableAfterMs: number,
  ) {}

  /**
   * The delay before the next launch, after a run that was ready for `readyForMs`
   * (null: it never became ready).
   */
  nextDelay(readyForMs: number | null): number {
    if (readyForMs !== null && readyForMs >= this.stableAfterMs) this.consecutiveFailures = 0;
    // The exponent is capped only to keep the arithmetic finite; maxMs caps the delay.
    const exponent = Math.min(this.consecutiveFailures, 30);
    this.consecutiveFailures += 1;
    return Math.min(this.maxMs, this.baseMs * 2 ** exponent);
  }
}
