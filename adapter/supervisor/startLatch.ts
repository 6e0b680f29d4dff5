export interface StartOutcome {
  /** True once the engine answered (and warmed up); false: degraded, or stopped first. */
  ready: boolean;
  /** Why it is not ready, as shown to clients. */
  reason: string | null;
  /** From the supervisor's start to this outcome. */
  durationMs: number;
}

/**
 * The first outcome of a start: ready, degraded, or stopped. Supervision goes on after it
 * (a degraded engine may still become ready), but ingress opens on this one.
 */
export class StartLatch {
  readonly outcome: Promise<StartOutcome>;
  private resolve: (outcome: StartOutcome) => void = () => undefined;
  private settled = false;
  private readonly startedAt = performance.now();

  constructor() {
    this.outcome = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Only the first call counts. */
  settle(ready: boolean, reason: string | null): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve({ ready, reason, durationMs: Math.round(performance.now() - this.startedAt) });
  }
}
