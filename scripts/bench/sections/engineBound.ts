/**
 * Engine-bound: trivial Python through the adapter vs straight to the same local engine, at 1
 * and 32 connections, alternating the two so drift on the machine hits both alike. Also the
 * adapter's own CPU time per request, from its process accounting, beside that of a bare
 * node:http proxy under the same load (what any Node hop pays here).
 *
 * PYTHON_RESULT=false: the adapter's result runner wraps Python code in more Python, which
 * is engine work, not hop cost; with it off both paths run the same program.
 */
import type { BenchRow, BenchSection } from '../types';
import {
  addLoad,
  latenciesOf,
  percentile,
  runLoad,
  type LoadResult,
  type LoadTotals,
} from '../support/load';
import { cpuTimeMs } from '../support/proc';
import { info, ms, ratio, rps, target } from '../support/rows';
import { benchEngine, startAdapter, startBareProxy, type Service } from '../support/services';

const SECTION = 'engine-bound';
const ROUNDS = 2;
/**
 * Long enough that the requests a run leaves unfinished when it stops (about one latency's
 * worth per connection, a second at 32 connections) are a small part of what it counts.
 */
const SECONDS_PER_RUN: Record<number, number> = { 1: 6, 32: 15 };

const DIRECT_BODY = JSON.stringify({
  language: 'python',
  version: '*',
  files: [{ content: 'print(1)' }],
});
const ADAPTER_BODY = JSON.stringify({ properties: { code: 'print(1)' } });

interface Totals extends LoadTotals {
  latencies: number[];
}

function add(totals: Totals, result: LoadResult): void {
  addLoad(totals, result);
  totals.latencies.push(...latenciesOf(result, (status) => status === 200));
}

const empty = (): Totals => ({ responses: 0, seconds: 0, latencies: [], failures: 0 });

export const engineBoundSection: BenchSection = async (context) => {
  const engine = benchEngine(context.repoRoot);
  context.progress(`engine-bound: against the ${engine.name}`);
  const adapter = await startAdapter(context.repoRoot, {
    ENGINE_COMMAND: engine.command,
    LOCAL_ENGINE_LANGUAGES: 'python',
    PYTHON_RESULT: 'false',
  });
  const rows: BenchRow[] = [info(SECTION, 'engine', engine.name)];
  let bare: Service | undefined;
  try {
    bare = await startBareProxy(context.repoRoot, adapter.engineUrl);
    const direct = { url: `${adapter.engineUrl}/api/v2/execute`, body: DIRECT_BODY };
    const via = { url: `${adapter.url}/python/execute`, body: ADAPTER_BODY };
    context.progress('engine-bound: warming up');
    await runLoad({ ...via, connections: 4, durationSeconds: 2 });
    await runLoad({ ...direct, connections: 4, durationSeconds: 2 });

    for (const connections of [1, 32]) {
      const straight = empty();
      const adapted = empty();
      let adapterCpuMs = 0;
      const durationSeconds = SECONDS_PER_RUN[connections] ?? 6;
      const runDirect = async () =>
        add(straight, await runLoad({ ...direct, connections, durationSeconds }));
      const runAdapter = async () => {
        const cpuBefore = cpuTimeMs(adapter.process.pid);
        add(adapted, await runLoad({ ...via, connections, durationSeconds }));
        adapterCpuMs += cpuTimeMs(adapter.process.pid) - cpuBefore;
      };
      for (let round = 0; round < ROUNDS; round += 1) {
        context.progress(`engine-bound: ${connections} connections, round ${round + 1}`);
        // Direct first, then adapter first: drift during the run hits both alike.
        if (round % 2 === 0) {
          await runDirect();
          await runAdapter();
        } else {
          await runAdapter();
          await runDirect();
        }
      }
      const throughputRatio =
        adapted.responses / adapted.seconds / (straight.responses / straight.seconds);
      const addedP50 = percentile(adapted.latencies, 50) - percentile(straight.latencies, 50);
      const addedP99 = percentile(adapted.latencies, 99) - percentile(straight.latencies, 99);
      const cpuPerRequest = adapterCpuMs / adapted.responses;
      const at = `@${connections} conn`;
      rows.push(
        info(
          SECTION,
          `throughput direct / via adapter ${at}`,
          `${rps(straight.responses / straight.seconds)} / ${rps(adapted.responses / adapted.seconds)}`,
        ),
        target(
          SECTION,
          `throughput ratio ${at}`,
          ratio(throughputRatio),
          '>= 0.97',
          throughputRatio >= 0.97,
        ),
        connections === 1
          ? target(SECTION, `added p50 ${at}`, ms(addedP50), '<= 1 ms', addedP50 <= 1)
          : info(SECTION, `added p50 ${at}`, ms(addedP50)),
        info(SECTION, `added p99 ${at}`, ms(addedP99)),
        info(
          SECTION,
          `p50 direct / via adapter ${at}`,
          `${ms(percentile(straight.latencies, 50))} / ${ms(percentile(adapted.latencies, 50))}`,
        ),
        connections === 32
          ? target(
              'cpu',
              `adapter CPU per request (engine-bound ${at})`,
              ms(cpuPerRequest, 3),
              '<= 0.5 ms',
              cpuPerRequest <= 0.5,
            )
          : info('cpu', `adapter CPU per request (engine-bound ${at})`, ms(cpuPerRequest, 3)),
      );
      // The floor for that figure: a bare node:http proxy, no framework, no logging, in front
      // of the same engine under the same load. Waking a process per request costs on its own.
      context.progress(`engine-bound: bare proxy, ${connections} connections`);
      const bareCpuBefore = cpuTimeMs(bare.process.pid);
      const bareRun = await runLoad({
        url: `${bare.url}/api/v2/execute`,
        body: DIRECT_BODY,
        connections,
        durationSeconds,
      });
      const bareCpu = (cpuTimeMs(bare.process.pid) - bareCpuBefore) / bareRun.responses;
      rows.push(
        info('cpu', `bare node:http proxy CPU per request (same engine ${at})`, ms(bareCpu, 3)),
      );
      if (straight.failures + adapted.failures > 0) {
        rows.push(
          info(
            SECTION,
            `non-200 or failed ${at} (direct / adapter)`,
            `${straight.failures} / ${adapted.failures}`,
          ),
        );
      }
    }
  } finally {
    await bare?.stop();
    await adapter.stop();
  }
  return rows;
};
