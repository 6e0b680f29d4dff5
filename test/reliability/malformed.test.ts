/**
 * 5,000 generated malformed requests (and a few clients too slow to finish theirs): every
 * answer is a 4xx in JSON, the process stays up and serves, and its memory comes back near
 * where it started.
 */
import { rssMb } from '../../scripts/bench/support/proc';
import type { AdapterProcess } from '../support/adapterProcess';
import { waitFor } from '../support/waitFor';
import {
  BASH_EXECUTE_PATH,
  bashBody,
  countBy,
  exchange,
  maxOf,
  recordFigures,
  startWithLocalEngine,
} from './support/harness';
import {
  generateMalformed,
  slowClients,
  type Limits,
  type MalformedCase,
} from './support/malformed';
import { rawExchange, type RawAnswer } from './support/rawClient';

const COUNT = 5_000;
const SLOW_CLIENTS = 24;
const CONCURRENCY = 16;
const SEED = 6;
const LIMITS: Limits = {
  bodyLimitBytes: 256 * 1024,
  engineBodyLimitBytes: 100 * 1024,
  fileMaxBytes: 64 * 1024,
};
/** Memory may grow while the requests run; afterwards it must settle back within this. */
const RSS_SLACK_MB = 15;

let adapter: AdapterProcess | undefined;

afterEach(async () => {
  await adapter?.cleanup();
  adapter = undefined;
});

interface Result {
  kind: string;
  /** The request line, to tell which case it was. */
  line: string;
  latencyMs: number;
  answer?: RawAnswer;
  error?: string;
}

/** Why an answer is not a 4xx JSON error, or null when it is one. */
function problemWith(result: Result): string | null {
  const { answer } = result;
  if (answer === undefined) return `no answer: ${result.error}`;
  if (answer.status < 400 || answer.status > 499)
    return `status ${answer.status}: ${answer.body.slice(0, 200)}`;
  if (!(answer.headers['content-type'] ?? '').startsWith('application/json')) {
    return `status ${answer.status} with content-type ${answer.headers['content-type']}`;
  }
  let body: { error?: { code?: unknown }; message?: unknown };
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    return `status ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`;
  }
  // The adapter's own {"error": {"code"}}, or the engine's {"message"} on /api/v2 paths.
  if (typeof body.error?.code === 'string' || typeof body.message === 'string') return null;
  return `status ${answer.status} JSON without a reason: ${answer.body.slice(0, 200)}`;
}

async function runAll(
  port: number,
  cases: MalformedCase[],
  concurrency: number,
): Promise<Result[]> {
  const results: Result[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const item = cases[next];
      next += 1;
      if (item === undefined) return;
      const started = performance.now();
      const line = String(item.request.parts[0]).split('\r\n')[0]?.slice(0, 120) ?? '';
      try {
        const answer = await rawExchange(port, item.request, 15_000);
        results.push({ kind: item.kind, line, latencyMs: performance.now() - started, answer });
      } catch (error) {
        results.push({
          kind: item.kind,
          line,
          latencyMs: performance.now() - started,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

test(`${COUNT} malformed requests: only 4xx JSON answers, alive, memory back near baseline`, async () => {
  adapter = startWithLocalEngine({
    BODY_LIMIT_BYTES: String(LIMITS.bodyLimitBytes),
    ENGINE_BODY_LIMIT_BYTES: String(LIMITS.engineBodyLimitBytes),
    FILE_MAX_BYTES: String(LIMITS.fileMaxBytes),
    HEADERS_TIMEOUT_MS: '1000',
    REQUEST_TIMEOUT_MS: '2000',
    // Thousands of refusals: keep the log (and this test's memory) to warnings.
    LOG_LEVEL: 'info',
  });
  const running = adapter;
  const port = await running.ingressPort(30_000);
  const execute = () =>
    exchange(port, {
      method: 'POST',
      path: BASH_EXECUTE_PATH,
      body: bashBody('true'),
      timeoutMs: 10_000,
    });

  // Baseline after every code path has run once: a warm process, not a fresh one.
  const warmUp = generateMalformed(1_000, SEED + 1, LIMITS);
  await runAll(port, warmUp, CONCURRENCY);
  for (let i = 0; i < 20; i += 1) expect((await execute()).status).toBe(200);
  const baselineMb = rssMb(running.pid);

  const cases = generateMalformed(COUNT, SEED, LIMITS);
  const [results, slow] = await Promise.all([
    runAll(port, cases, CONCURRENCY),
    runAll(port, slowClients(SLOW_CLIENTS), SLOW_CLIENTS),
  ]);
  const all = [...results, ...slow];
  const problems = all
    .map((result) => ({ kind: result.kind, line: result.line, problem: problemWith(result) }))
    .filter((entry) => entry.problem !== null);
  const peakMb = rssMb(running.pid);

  // Alive and serving.
  expect(running.hasExited).toBe(false);
  expect((await exchange(port, { method: 'GET', path: '/health', timeoutMs: 5_000 })).status).toBe(
    200,
  );
  expect((await execute()).status).toBe(200);

  let settledMb = rssMb(running.pid);
  await waitFor(
    () => {
      settledMb = rssMb(running.pid);
      return settledMb <= baselineMb + RSS_SLACK_MB;
    },
    {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: `RSS back near ${baselineMb.toFixed(0)} MB (now ${settledMb.toFixed(0)} MB)`,
    },
  );

  recordFigures({
    name: 'malformed',
    requests: all.length,
    failures: problems.length,
    maxLatencyMs: maxOf(all.map((r) => r.latencyMs)),
    detail:
      `${countBy(all, (r) => r.answer?.status ?? 'none')}; RSS baseline ${baselineMb.toFixed(0)} MB, ` +
      `after the run ${peakMb.toFixed(0)} MB, settled ${settledMb.toFixed(0)} MB`,
  });
  expect(problems.slice(0, 10)).toEqual([]);
  expect(slow.map((r) => r.answer?.status)).toEqual(slow.map(() => 408));
});
