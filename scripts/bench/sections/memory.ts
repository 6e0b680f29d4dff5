/**
 * Memory: the adapter's resident set idle and at 128 connections on the execute route, as
 * deployed (supervising its engine; here the zero-work engine, so the load is the adapter's).
 * Idle is measured after a few requests (lazily loaded code is in) and IDLE_SECONDS without
 * any, as a session container sits between bursts; V8 gives memory back only after a while.
 */
import type { BenchSection } from '../types';
import { runLoad } from '../support/load';
import { peakRssMb, rssMb } from '../support/proc';
import { info, mb, target } from '../support/rows';
import { startAdapter, zeroEngineCommand } from '../support/services';

const SECTION = 'memory';
const CONNECTIONS = 128;
const LOAD_SECONDS = 8;
const SAMPLE_MS = 100;
const IDLE_SECONDS = 20;

export const memorySection: BenchSection = async (context) => {
  const adapter = await startAdapter(context.repoRoot, {
    ENGINE_COMMAND: zeroEngineCommand(context.repoRoot),
  });
  try {
    const pid = adapter.process.pid;
    const execute = {
      url: `${adapter.url}/python/execute`,
      body: JSON.stringify({ properties: { code: 'print("Hello, World!")' } }),
    };

    await runLoad({ ...execute, connections: 1, amount: 20 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const justAfter = rssMb(pid);
    context.progress(`memory: ${IDLE_SECONDS} s idle`);
    await new Promise((resolve) => setTimeout(resolve, (IDLE_SECONDS - 1) * 1_000));
    const idle = rssMb(pid);

    context.progress(`memory: ${CONNECTIONS} connections for ${LOAD_SECONDS} s`);
    let sampledPeak = 0;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, rssMb(pid));
    }, SAMPLE_MS);
    let result;
    try {
      result = await runLoad({
        ...execute,
        connections: CONNECTIONS,
        durationSeconds: LOAD_SECONDS,
      });
    } finally {
      clearInterval(sampler);
    }
    const peak = Math.max(sampledPeak, peakRssMb(pid));
    return [
      info(SECTION, 'adapter RSS 1 s after the last request', mb(justAfter)),
      target(
        SECTION,
        `adapter RSS idle (${IDLE_SECONDS} s without requests)`,
        mb(idle),
        '<= 70 MB',
        idle <= 70,
      ),
      target(SECTION, `adapter peak RSS @${CONNECTIONS} conn`, mb(peak), '<= 120 MB', peak <= 120),
      info(
        SECTION,
        `requests during the @${CONNECTIONS} run (non-200)`,
        `${result.responses} (${result.responses - (result.byStatus[200] ?? 0) + result.errors})`,
      ),
    ];
  } finally {
    await adapter.stop();
  }
};
