/**
 * Adapter-bound: against a zero-work engine (a fixed Piston reply at once), so the hop is the
 * whole cost. The adapter's execute route and its /api/v2 passthrough vs a bare node:http
 * keep-alive proxy (the floor any Node hop pays) vs the engine directly; runs alternate.
 */
import type { BenchRow, BenchSection } from '../types';
import { addLoad, runLoad, type LoadTotals } from '../support/load';
import { cpuTimeMs } from '../support/proc';
import { info, ms, ratio, rps, target } from '../support/rows';
import { startAdapter, startBareProxy, zeroEngineCommand, type Service } from '../support/services';

const SECTION = 'adapter-bound';
const CONNECTIONS = 32;
const ROUNDS = 2;
const SECONDS_PER_RUN = 5;

const PISTON_BODY = JSON.stringify({
  language: 'python',
  version: '*',
  files: [{ content: 'print("Hello, World!")' }],
});
const AZURE_BODY = JSON.stringify({ properties: { code: 'print("Hello, World!")' } });

interface Path extends LoadTotals {
  name: string;
  url: string;
  body: string;
}

export const adapterBoundSection: BenchSection = async (context) => {
  const services: Service[] = [];
  const rows: BenchRow[] = [];
  try {
    // The adapter as deployed: supervising its engine, here the zero-work one.
    const adapter = await startAdapter(context.repoRoot, {
      ENGINE_COMMAND: zeroEngineCommand(context.repoRoot),
    });
    services.push(adapter);
    const engine = { url: adapter.engineUrl };
    const bare = await startBareProxy(context.repoRoot, engine.url);
    services.push(bare);

    const path = (name: string, url: string, body: string): Path => ({
      name,
      url,
      body,
      responses: 0,
      seconds: 0,
      failures: 0,
    });
    const direct = path('direct', `${engine.url}/api/v2/execute`, PISTON_BODY);
    const proxy = path('bare proxy', `${bare.url}/api/v2/execute`, PISTON_BODY);
    const passthrough = path('passthrough', `${adapter.url}/api/v2/execute`, PISTON_BODY);
    const execute = path('execute route', `${adapter.url}/python/execute`, AZURE_BODY);
    const paths = [direct, proxy, passthrough, execute];

    context.progress('adapter-bound: warming up');
    for (const p of paths)
      await runLoad({ url: p.url, body: p.body, connections: 8, durationSeconds: 1 });

    let executeCpuMs = 0;
    let passthroughCpuMs = 0;
    let bareCpuMs = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const p of paths) {
        context.progress(`adapter-bound: ${p.name}, round ${round + 1}`);
        const cpuBefore = cpuTimeMs(adapter.process.pid);
        const bareCpuBefore = cpuTimeMs(bare.process.pid);
        const result = await runLoad({
          url: p.url,
          body: p.body,
          connections: CONNECTIONS,
          durationSeconds: SECONDS_PER_RUN,
        });
        const cpu = cpuTimeMs(adapter.process.pid) - cpuBefore;
        if (p === execute) executeCpuMs += cpu;
        if (p === passthrough) passthroughCpuMs += cpu;
        if (p === proxy) bareCpuMs += cpuTimeMs(bare.process.pid) - bareCpuBefore;
        addLoad(p, result);
      }
    }
    const rate = (p: Path) => p.responses / p.seconds;
    const at = `@${CONNECTIONS} conn`;
    rows.push(
      info(
        SECTION,
        `throughput direct / bare proxy / passthrough / execute ${at}`,
        paths.map((p) => rps(rate(p))).join(' / '),
      ),
      target(
        SECTION,
        `execute route / bare proxy throughput ${at}`,
        ratio(rate(execute) / rate(proxy)),
        '>= 0.6',
        rate(execute) / rate(proxy) >= 0.6,
      ),
      info(
        SECTION,
        `passthrough / bare proxy throughput ${at}`,
        ratio(rate(passthrough) / rate(proxy)),
      ),
      info(SECTION, `bare proxy / direct throughput ${at}`, ratio(rate(proxy) / rate(direct))),
      info(
        'cpu',
        `adapter CPU per request, execute route (adapter-bound ${at})`,
        ms(executeCpuMs / execute.responses, 3),
      ),
      info(
        'cpu',
        `adapter CPU per request, passthrough (adapter-bound ${at})`,
        ms(passthroughCpuMs / passthrough.responses, 3),
      ),
      info(
        'cpu',
        `bare node:http proxy CPU per request (adapter-bound ${at})`,
        ms(bareCpuMs / proxy.responses, 3),
      ),
    );
    const failures = paths.filter((p) => p.failures > 0);
    if (failures.length > 0) {
      rows.push(
        info(
          SECTION,
          'non-200 or failed',
          failures.map((p) => `${p.name}: ${p.failures}`).join(', '),
        ),
      );
    }
  } finally {
    for (const service of services.reverse()) await service.stop();
  }
  return rows;
};
