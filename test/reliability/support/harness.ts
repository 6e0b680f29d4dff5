/**
 * What the reliability tests share: the built adapter supervising the built local engine
 * (both real processes, loopback only), a few probes of it, a load of many concurrent
 * clients that records every request's status and latency, and the figures file the
 * global teardown prints at the end of the run.
 */
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import type { GateSnapshot } from '../../../adapter/execution/admissionGate';
import { commandLine, startAdapter, type AdapterProcess } from '../../support/adapterProcess';
import { LOCAL_ENGINE_MAIN } from '../../support/localEngine';

/** Each test's headline numbers; the global teardown sums them into the last lines. */
export interface Figures {
  /** e.g. "burst" or "engine kills". */
  name: string;
  requests: number;
  failures: number;
  maxLatencyMs: number;
  restarts?: number;
  /** Anything else worth a line, already in words. */
  detail?: string;
}

export function recordFigures(figures: Figures): void {
  const file = process.env.RELIABILITY_FIGURES_FILE;
  if (file !== undefined) appendFileSync(file, `${JSON.stringify(figures)}\n`);
}

/**
 * The adapter with the local engine offering bash only: `true` is the cheapest real job the
 * engine can run (a process, its limits and its output), so counts stay high on two cores.
 */
export function startWithLocalEngine(env: Record<string, string> = {}): AdapterProcess {
  return startAdapter((tempDir) => ({
    ENGINE_COMMAND: commandLine(process.execPath, LOCAL_ENGINE_MAIN),
    LOCAL_ENGINE_LANGUAGES: 'bash',
    // The engine makes its folders in TMPDIR: inside the adapter's, removed with it.
    TMPDIR: tempDir,
    ...env,
  }));
}

export const BASH_EXECUTE_PATH = '/bash/execute';

export function bashBody(code: string, timeoutInSeconds?: number): string {
  return JSON.stringify({
    properties: { code, ...(timeoutInSeconds !== undefined && { timeoutInSeconds }) },
  });
}

export interface Status {
  gate: GateSnapshot;
  engine: { state: string; restarts: number; pid: number | null; url: string };
  errorsByCode?: Record<string, number>;
}

/** GET / on a fresh connection. */
export async function statusOf(port: number): Promise<Status> {
  const reply = await exchange(port, { method: 'GET', path: '/', timeoutMs: 5_000 });
  if (reply.status !== 200) throw new Error(`GET / answered ${reply.status}: ${reply.text}`);
  return JSON.parse(reply.text) as Status;
}

export interface Exchange {
  method: string;
  path: string;
  body?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Abort and report an error after this long. */
  timeoutMs: number;
  agent?: http.Agent | false;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request; rejects on a connection error or after timeoutMs. */
export function exchange(port: number, request: Exchange): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.path,
        agent: request.agent ?? false,
        headers: {
          ...(request.body !== undefined && {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(request.body),
          }),
          ...request.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      // A kept-alive connection the server closed just as this request went out: the request
      // never reached it (HTTP/1.1's keep-alive race), which callers may want to tell apart.
      if (req.reusedSocket) Object.assign(error, { reusedSocket: true });
      reject(error);
    });
    req.end(request.body);
  });
}

export interface Outcome {
  /** HTTP status, or 0 when there was no answer (the error says why). */
  status: number;
  latencyMs: number;
  error?: string;
  /** The error code of a non-2xx JSON answer. */
  code?: string;
  startedAt: number;
  /** Which of a Load's clients sent it (0 for single requests). */
  worker?: number;
}

export interface LoadOptions {
  /**
   * After a 429, a 503 or a refused connection, wait this long before the next request, as a
   * client honouring Retry-After does (scaled down); without it refused clients spin as fast
   * as the CPU allows.
   */
  pauseAfterRefusalMs?: number;
}

/**
 * `workers` clients, each sending one request after another on its own kept-alive connection
 * until stopped, recording every outcome. A request that takes longer than `timeoutMs` is
 * abandoned and recorded with status 0: that is a hung request.
 */
export class Load {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private readonly running: Promise<void>[];
  private readonly agent: http.Agent;

  constructor(
    port: number,
    workers: number,
    private readonly request: () => Omit<Exchange, 'agent'>,
    private readonly options: LoadOptions = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: workers });
    this.running = Array.from({ length: workers }, (_, worker) => this.work(port, worker));
  }

  /** Outcomes since `since` (a performance.now() value). */
  since(since: number): Outcome[] {
    return this.outcomes.filter((outcome) => outcome.startedAt >= since);
  }

  async stop(): Promise<Outcome[]> {
    this.stopped = true;
    await Promise.all(this.running);
    this.agent.destroy();
    return this.outcomes;
  }

  private async work(port: number, worker: number): Promise<void> {
    while (!this.stopped) {
      const request = this.request();
      const startedAt = performance.now();
      let refused: boolean;
      try {
        const answer = await exchange(port, { ...request, agent: this.agent });
        const outcome: Outcome = {
          status: answer.status,
          latencyMs: performance.now() - startedAt,
          startedAt,
          worker,
        };
        if (answer.status >= 300) outcome.code = errorCodeOf(answer.text);
        this.outcomes.push(outcome);
        refused = answer.status === 429 || answer.status === 503;
      } catch (error) {
        const reused = (error as { reusedSocket?: boolean }).reusedSocket === true;
        const message = error instanceof Error ? error.message : String(error);
        this.outcomes.push({
          status: 0,
          latencyMs: performance.now() - startedAt,
          error: reused ? `${message} (on a reused connection)` : message,
          startedAt,
          worker,
        });
        refused = true;
      }
      const pause = this.options.pauseAfterRefusalMs;
      if (refused && pause !== undefined)
        await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** The adapter's {"error": {"code"}} code, or a note that the body was not that. */
export function errorCodeOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : '(JSON without error.code)';
  } catch {
    return '(not JSON)';
  }
}

export function countBy<T>(items: readonly T[], key: (item: T) => string | number): string {
  const counts = new Map<string | number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name}: ${count}`)
    .join(', ');
}

export function maxOf(values: readonly number[]): number {
  return values.reduce((max, value) => Math.max(max, value), 0);
}
