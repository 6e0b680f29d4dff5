import { httpExchange } from '../piston/httpExchange';
import { linkedSignal, sleep } from '../timing/deadline';

export type ProbeResult = { ok: true; runtimes: number } | { ok: false; error: string };

/** One health check; must resolve (never reject) within about `timeoutMs`. */
export type HealthProbe = (
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
) => Promise<ProbeResult>;

/**
 * Piston has no health endpoint; GET /api/v2/runtimes answers in under a millisecond and
 * proves the API is serving. (GET /api/v2/packages can crash Piston: never use it here.)
 * Anything but a JSON array is unhealthy, so some other server on the port does not pass.
 */
export const probeRuntimes: HealthProbe = async (url, timeoutMs, signal) => {
  const linked = linkedSignal([signal], timeoutMs);
  try {
    // A fresh connection each time: a probe must not reuse a socket a dying engine left open.
    const { status, text } = await httpExchange(new URL(url), false, {
      method: 'GET',
      path: '/api/v2/runtimes',
      signal: linked.signal,
    });
    if (status < 200 || status > 299)
      return { ok: false, error: `HTTP ${status} ${text.slice(0, 200)}`.trim() };
    const body: unknown = JSON.parse(text);
    if (!Array.isArray(body))
      return { ok: false, error: 'GET /api/v2/runtimes did not return a list' };
    return { ok: true, runtimes: body.length };
  } catch (error) {
    if (linked.signal.aborted && !signal?.aborted) {
      return { ok: false, error: `no answer within ${timeoutMs} ms` };
    }
    return { ok: false, error: describeFetchError(error) };
  } finally {
    linked.dispose();
  }
};

/** "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:2001": the code first, to match on. */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}

export interface PollTiming {
  /** First gap between probes: an engine that is nearly up is seen at once. */
  initialIntervalMs: number;
  /** Growth of the gap per failed probe, up to maxIntervalMs. */
  factor: number;
  maxIntervalMs: number;
  /** Gap once the deadline has passed: keep looking, but cheaply. */
  lateIntervalMs: number;
  probeTimeoutMs: number;
}

export interface PollOptions {
  probe: HealthProbe;
  url: string;
  timing: PollTiming;
  deadlineMs: number;
  /** Called once, if the deadline passes first, with the last probe's error. */
  onDeadline(lastError: string): void;
  /** Aborted when the engine exits or the adapter stops. */
  signal: AbortSignal;
}

export interface PollResult {
  healthy: boolean;
  probes: number;
  lastError: string;
}

/**
 * Probes until the engine answers or `signal` aborts. Polling goes on past the deadline (the
 * caller goes degraded on onDeadline and becomes ready if the engine answers later).
 */
export async function pollUntilHealthy(options: PollOptions): Promise<PollResult> {
  const { probe, url, timing, signal } = options;
  let lastError = 'no probe has finished yet';
  let late = false;
  // A timer, not a check between probes: a hung probe must not delay going degraded.
  const deadline = setTimeout(() => {
    late = true;
    options.onDeadline(lastError);
  }, options.deadlineMs);
  let interval = timing.initialIntervalMs;
  let probes = 0;
  try {
    while (!signal.aborted) {
      const result = await probe(url, timing.probeTimeoutMs, signal);
      probes += 1;
      if (signal.aborted) break;
      if (result.ok) return { healthy: true, probes, lastError: '' };
      lastError = result.error;
      if (!(await sleep(late ? timing.lateIntervalMs : interval, signal))) break;
      interval = Math.min(interval * timing.factor, timing.maxIntervalMs);
    }
    return { healthy: false, probes, lastError };
  } finally {
    clearTimeout(deadline);
  }
}
