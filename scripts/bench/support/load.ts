/**
 * One autocannon run, with every response's latency kept per status code. autocannon's own
 * histogram has whole-millisecond resolution; "added p50 of at most 1 ms" needs finer, and
 * the overload section needs admitted (2xx) and refused (429) latencies apart.
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** Seconds; ignored when `amount` is given. */
  durationSeconds?: number;
  /** Stop after this many responses. */
  amount?: number;
  /** Requests per second across all connections (paced), instead of as fast as possible. */
  overallRate?: number;
  /** Seconds a request may take before autocannon counts it as a timeout. */
  timeoutSeconds?: number;
}

export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
  /** Responses per second over the run. */
  rps: number;
  byStatus: Record<number, number>;
  /** Latency in milliseconds of every response, by status. */
  latencies: Map<number, number[]>;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new Map<number, number[]>();
  const started = performance.now();
  const instance = autocannon({
    url: options.url,
    method: options.method ?? 'POST',
    ...(options.body !== undefined && { body: options.body }),
    headers: { 'content-type': 'application/json', ...options.headers },
    connections: options.connections,
    ...(options.amount !== undefined
      ? { amount: options.amount }
      : { duration: options.durationSeconds ?? 5 }),
    ...(options.overallRate !== undefined && { overallRate: options.overallRate }),
    timeout: options.timeoutSeconds ?? 30,
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    let list = latencies.get(status);
    if (list === undefined) latencies.set(status, (list = []));
    list.push(ms);
  });
  const result = await instance;
  const durationSeconds = (performance.now() - started) / 1000;
  const byStatus: Record<number, number> = {};
  let responses = 0;
  for (const [status, list] of latencies) {
    byStatus[status] = list.length;
    responses += list.length;
  }
  return {
    responses,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds,
    rps: responses / durationSeconds,
    byStatus,
    latencies,
  };
}

/** What one path's runs add up to, across rounds. */
export interface LoadTotals {
  responses: number;
  seconds: number;
  /** Requests that failed or did not answer 200. */
  failures: number;
}

/** Adds one run to a path's totals. */
export function addLoad(totals: LoadTotals, result: LoadResult): void {
  totals.responses += result.responses;
  totals.seconds += result.durationSeconds;
  totals.failures += result.errors + result.responses - (result.byStatus[200] ?? 0);
}

/** Every latency of the given statuses (all statuses when none are given). */
export function latenciesOf(result: LoadResult, statuses?: (status: number) => boolean): number[] {
  const all: number[] = [];
  for (const [status, list] of result.latencies) {
    if (statuses === undefined || statuses(status)) all.push(...list);
  }
  return all;
}

/** The p-th percentile (0-100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
