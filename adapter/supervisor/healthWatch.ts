import type { HealthProbe } from './healthPoll';

export interface HealthWatchOptions {
  probe: HealthProbe;
  url: string;
  intervalMs: number;
  probeTimeoutMs: number;
  /** Consecutive failed probes that make the engine unhealthy: one slow probe changes nothing. */
  failureThreshold: number;
  /** Ends the watch (the engine exited, or the adapter stops). */
  signal: AbortSignal;
  /** Called once when the threshold is reached, with the last error and the count. */
  onUnhealthy(lastError: string, failures: number): void;
  /** Called when a probe succeeds after onUnhealthy. */
  onHealthy(): void;
}

/**
 * The one health loop of both modes, once the engine is ready: a probe every `intervalMs`, and
 * `failureThreshold` failures in a row before anything changes, so a wedged engine (port open,
 * no answers) is noticed within threshold x (interval + probe timeout), and a single slow probe
 * is not mistaken for one. What to do about it is the caller's (restart or report).
 */
export async function watchHealth(options: HealthWatchOptions): Promise<void> {
  const { probe, url, signal } = options;
  let failures = 0;
  while (await pause(options.intervalMs, signal)) {
    const result = await probe(url, options.probeTimeoutMs, signal);
    if (signal.aborted) return;
    if (result.ok) {
      if (failures >= options.failureThreshold) options.onHealthy();
      failures = 0;
      continue;
    }
    failures += 1;
    if (failures === options.failureThreshold) options.onUnhealthy(result.error, failures);
  }
}

/** Like deadline.ts's sleep, with an unref'd timer: a health check never keeps the process up. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
