import { setTimeout as delay } from 'node:timers/promises';

export type Settled<T> = { settled: true; value: T } | { settled: false };

/**
 * Waits for `promise`, but never longer than `ms`. Every wait in the supervisor goes through
 * here or `sleep`, so no step (a stop, a drain, a probe) can hang shutdown or startup.
 */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then((value) => ({ settled: true as const, value })),
      delay(ms, { settled: false as const }, { signal: timer.signal }),
    ]);
  } finally {
    // Clears the timer, so a settled wait leaves nothing behind to keep the process alive.
    timer.abort();
  }
}

/** Sleeps `ms`; resolves false at once (instead of throwing) when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export interface LinkedSignal {
  /** Aborts when any parent aborts (with its reason), or after the timeout. */
  signal: AbortSignal;
  /** Detaches from the parents and clears the timer; call it when done. */
  dispose(): void;
}

/**
 * AbortSignal.any plus a timeout, without its cost here: on Node 20 every AbortSignal.any call
 * leaves a small entry on its parents for good, and the stop signal lives as long as the
 * adapter while health checks run every few seconds.
 */
export function linkedSignal(
  parents: ReadonlyArray<AbortSignal | undefined>,
  timeoutMs?: number,
): LinkedSignal {
  const controller = new AbortController();
  // With the reason of the parent that aborted, as AbortSignal.any gives it.
  const abort = (event?: Event) => controller.abort((event?.target as AbortSignal | null)?.reason);
  const timer = timeoutMs === undefined ? undefined : setTimeout(abort, timeoutMs);
  for (const parent of parents) {
    if (parent?.aborted) controller.abort(parent.reason);
    else parent?.addEventListener('abort', abort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      for (const parent of parents) parent?.removeEventListener('abort', abort);
    },
  };
}
