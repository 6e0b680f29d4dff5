/**
 * Runs a survey of the session folder for callers that each need one started after they
 * asked (an execution just ended: a survey already under way may have missed its files).
 * At most one runs at a time, and every caller that arrives while one runs shares the next:
 * fifty executions ending together cost two surveys, not fifty.
 */
export class SurveyScheduler<T> {
  private running: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly survey: () => Promise<T>) {}

  fresh(): Promise<T> {
    if (this.running === null) return this.start();
    // Shared by everyone who arrives while the current one runs; starts once it settles.
    this.next ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.next;
  }

  private startQueued(): Promise<T> {
    this.next = null;
    return this.start();
  }

  private start(): Promise<T> {
    const run = this.survey();
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = null;
    };
    run.then(clear, clear);
    return run;
  }
}
