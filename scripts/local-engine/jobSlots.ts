/**
 * At most `max` jobs run at once (PISTON_MAX_CONCURRENT_JOBS); the rest wait in an unbounded
 * first-in first-out queue, as in Piston.
 */
export class JobSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Most jobs held at once, running or waiting: what the engine was asked to carry. */
  private peakHeld = 0;

  constructor(private readonly max: number) {}

  /** Resolves once a slot is free; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    this.peakHeld = Math.max(this.peakHeld, this.running + this.waiting.length + 1);
    if (this.running >= this.max) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next job in line; `running` stays as it is.
      if (next) next();
      else this.running -= 1;
    };
  }

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Counts for the engine's own status route (see server.ts). */
  snapshot(): { running: number; queued: number; peakHeld: number } {
    return { running: this.running, queued: this.waiting.length, peakHeld: this.peakHeld };
  }
}
