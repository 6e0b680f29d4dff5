import type { AdapterError } from '../errors/adapterError';
import { errors } from '../errors/errorTable';

export interface AdmissionLimits {
  /** Executions allowed at the engine at once (its job slots). */
  maxInFlight: number;
  /** Executions allowed to wait for a slot; beyond this, refuse at once. */
  queueMax: number;
  /** How long one execution may wait for a slot. */
  queueWaitMs: number;
}

/** Hands the slot back. Safe to call more than once: only the first call counts. */
export type Release = () => void;

export interface GateSnapshot {
  maxInFlight: number;
  queueMax: number;
  queueWaitMs: number;
  inFlight: number;
  queued: number;
  /** Highest values seen since start, to size the limits. */
  peakInFlight: number;
  peakQueued: number;
  /** Counters since start. */
  admitted: number;
  queuedTotal: number;
  rejectedQueueFull: number;
  expiredInQueue: number;
  abandonedInQueue: number;
}

interface Waiter {
  grant: () => void;
}

/**
 * At most `maxInFlight` executions at the engine, a bounded first-in first-out queue behind
 * them, and a fast refusal past that. Piston itself queues without bound past its job slots,
 * so without this a burst would pile up inside the engine, where nobody can see or bound it.
 *
 * Refusals are AdapterErrors: 429 when the queue is full (answered without waiting), 503 when a
 * queued execution waited `queueWaitMs`, 499 when its caller went away while it waited.
 */
export class AdmissionGate {
  private inFlight = 0;
  /** Insertion order is queue order; a Set lets a waiter that gives up leave from the middle. */
  private readonly waiting = new Set<Waiter>();
  private peakInFlight = 0;
  private peakQueued = 0;
  private admitted = 0;
  private queuedTotal = 0;
  private rejectedQueueFull = 0;
  private expiredInQueue = 0;
  private abandonedInQueue = 0;

  constructor(private readonly limits: AdmissionLimits) {}

  /**
   * Resolves with a Release once the caller holds a slot; the caller must call it in a
   * `finally`. Rejects (holding nothing) when the queue is full, the wait runs out, or
   * `signal` aborts while waiting.
   */
  admit(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(this.abandoned(0));
    if (this.inFlight < this.limits.maxInFlight && this.waiting.size === 0) {
      this.take();
      return Promise.resolve(this.releaseOnce());
    }
    if (this.waiting.size >= this.limits.queueMax) return Promise.reject(this.queueFull());
    return this.enqueue(signal);
  }

  /**
   * A slot now if one is free and nobody waits, else null, counting no refusal: for the
   * adapter's own background jobs, which must never take a caller's turn.
   */
  tryAdmit(): Release | null {
    if (this.inFlight >= this.limits.maxInFlight || this.waiting.size > 0) return null;
    this.take();
    return this.releaseOnce();
  }

  /**
   * Throws the 429 `admit` would give right now, holding nothing: a caller checks this before
   * the work of preparing an execution, so a refusal under overload costs next to nothing.
   */
  assertRoom(): void {
    const full =
      this.inFlight >= this.limits.maxInFlight && this.waiting.size >= this.limits.queueMax;
    if (full) throw this.queueFull();
  }

  snapshot(): GateSnapshot {
    return {
      ...this.limits,
      inFlight: this.inFlight,
      queued: this.waiting.size,
      peakInFlight: this.peakInFlight,
      peakQueued: this.peakQueued,
      admitted: this.admitted,
      queuedTotal: this.queuedTotal,
      rejectedQueueFull: this.rejectedQueueFull,
      expiredInQueue: this.expiredInQueue,
      abandonedInQueue: this.abandonedInQueue,
    };
  }

  private enqueue(signal: AbortSignal | undefined): Promise<Release> {
    const queuedAt = performance.now();
    return new Promise<Release>((resolve, reject) => {
      const leave = (error: AdapterError) => {
        this.waiting.delete(waiter);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => {
        this.abandonedInQueue += 1;
        leave(this.abandoned(performance.now() - queuedAt));
      };
      const timer = setTimeout(() => {
        this.expiredInQueue += 1;
        leave(
          errors.queue_timeout({
            maxInFlight: this.limits.maxInFlight,
            queueWaitMs: this.limits.queueWaitMs,
          }),
        );
      }, this.limits.queueWaitMs);
      const waiter: Waiter = {
        // Called by a release with the slot already counted for this waiter.
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.admitted += 1;
          resolve(this.releaseOnce());
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
      this.queuedTotal += 1;
      this.peakQueued = Math.max(this.peakQueued, this.waiting.size);
    });
  }

  private queueFull(): AdapterError {
    this.rejectedQueueFull += 1;
    return errors.queue_full({
      maxInFlight: this.limits.maxInFlight,
      queueMax: this.limits.queueMax,
      inFlight: this.inFlight,
      queued: this.waiting.size,
    });
  }

  private take(): void {
    this.inFlight += 1;
    this.admitted += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
  }

  private releaseOnce(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.values().next();
      if (next.done) {
        this.inFlight -= 1;
        return;
      }
      // The slot passes straight to the oldest waiter: inFlight stays as it is, so a new
      // arrival cannot overtake the queue.
      this.waiting.delete(next.value);
      next.value.grant();
    };
  }

  private abandoned(waitedMs: number): AdapterError {
    return errors.client_closed_request({
      message: `the caller went away after waiting ${Math.round(waitedMs)} ms for an execution slot`,
    });
  }
}
