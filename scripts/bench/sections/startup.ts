/**
 * Start-up: from launch to ingress open, minus the engine's own start (launch to its first
 * answer, seen by probing it every 2 ms); how long after the engine first answers the ingress
 * opens; and the first execution against the steady-state median. Median of a few launches.
 */
import http from 'node:http';
import type { BenchRow, BenchSection } from '../types';
import { median } from '../support/load';
import { info, ms, ratio, target } from '../support/rows';
import { adapterWhenOpen, launchAdapter, localEngineCommand } from '../support/services';

const SECTION = 'start-up';
const LAUNCHES = 3;
const STEADY_REQUESTS = 20;
const PROBE_INTERVAL_MS = 2;

/**
 * Resolves with the time (performance.now()) of the first 200 from GET /api/v2/runtimes, or
 * NaN once `signal` aborts.
 */
async function firstAnswer(url: string, signal: AbortSignal): Promise<number> {
  for (;;) {
    if (signal.aborted) return Number.NaN;
    const answered = await new Promise<boolean>((resolve) => {
      const req = http.get(`${url}/api/v2/runtimes`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
    });
    if (answered) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  }
}

async function timedExecute(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/python/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ properties: { code: 'print(1)' } }),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`execute answered ${response.status}`);
  return performance.now() - started;
}

interface Launch {
  toIngressMs: number;
  engineOwnMs: number;
  afterEngineAnswerMs: number;
  firstExecutionMs: number;
  steadyMedianMs: number;
}

async function launchOnce(repoRoot: string): Promise<Launch> {
  const env = { ENGINE_COMMAND: localEngineCommand(repoRoot), LOCAL_ENGINE_LANGUAGES: 'python' };
  const child = launchAdapter(repoRoot, env);
  const stopProbing = new AbortController();
  try {
    const launched = await child.waitForMessage('engine launched');
    const engineAnswered = firstAnswer(
      `http://${String(launched.line.bindAddress)}`,
      stopProbing.signal,
    );
    const adapter = await adapterWhenOpen(child, env);
    const ingressAt = (await child.waitForMessage('ingress open')).at;
    const engineAnsweredAt = await engineAnswered;
    const firstExecutionMs = await timedExecute(adapter.url);
    const steady: number[] = [];
    for (let i = 0; i < STEADY_REQUESTS; i += 1) steady.push(await timedExecute(adapter.url));
    const toIngressMs = ingressAt - child.launchedAt;
    const engineOwnMs = engineAnsweredAt - launched.at;
    return {
      toIngressMs,
      engineOwnMs,
      afterEngineAnswerMs: ingressAt - engineAnsweredAt,
      firstExecutionMs,
      steadyMedianMs: median(steady),
    };
  } finally {
    stopProbing.abort();
    await child.stop(10_000);
  }
}

export const startupSection: BenchSection = async (context) => {
  const launches: Launch[] = [];
  for (let i = 0; i < LAUNCHES; i += 1) {
    context.progress(`start-up: launch ${i + 1} of ${LAUNCHES}`);
    launches.push(await launchOnce(context.repoRoot));
  }
  const m = (pick: (launch: Launch) => number) => median(launches.map(pick));
  const afterAnswer = m((l) => l.afterEngineAnswerMs);
  const rows: BenchRow[] = [
    info(
      SECTION,
      'launch to ingress open (median)',
      ms(
        m((l) => l.toIngressMs),
        0,
      ),
    ),
    info(
      SECTION,
      "engine's own start: launch to first answer",
      ms(
        m((l) => l.engineOwnMs),
        0,
      ),
    ),
    info(
      SECTION,
      "adapter's own start-up (launch to ingress minus engine's start)",
      ms(
        m((l) => l.toIngressMs - l.engineOwnMs),
        0,
      ),
    ),
    target(
      SECTION,
      "ingress open after the engine's first answer",
      ms(afterAnswer, 1),
      '<= 100 ms',
      afterAnswer <= 100,
    ),
    info(
      SECTION,
      'first execution / steady median',
      `${ms(
        m((l) => l.firstExecutionMs),
        1,
      )} / ${ms(
        m((l) => l.steadyMedianMs),
        1,
      )} (${ratio(m((l) => l.firstExecutionMs / l.steadyMedianMs))}x)`,
    ),
  ];
  return rows;
};
