/**
 * Overload: an engine with SLOTS job slots that holds every execution ENGINE_DELAY_MS (the
 * zero-work engine, so the box's CPU stays the adapter's), offered four times what it can
 * complete. The gate admits MAX_IN_FLIGHT, queues as many again and refuses the rest with 429:
 * admitted requests wait at most about two engine turns, and a refusal costs next to nothing.
 *
 * Requests arrive at a fixed rate (open loop, see support/openLoop.ts), as a burst from many
 * clients does. The closed-loop figure (autocannon, each refused connection re-sending at
 * once) is printed beside it for context: there a 429 waits behind the other refused clients.
 */
import type { BenchSection } from '../types';
import { latenciesOf, percentile, runLoad } from '../support/load';
import { runOpenLoop } from '../support/openLoop';
import { info, ms, rps, target } from '../support/rows';
import { startAdapter, zeroEngineCommand, type Service } from '../support/services';

const SECTION = 'overload';
const SLOTS = 16;
const ENGINE_DELAY_MS = 100;
const LOAD_SECONDS = 8;

export const overloadSection: BenchSection = async (context) => {
  const services: Service[] = [];
  try {
    const adapter = await startAdapter(context.repoRoot, {
      ENGINE_COMMAND: zeroEngineCommand(context.repoRoot),
      ZERO_ENGINE_DELAY_MS: String(ENGINE_DELAY_MS),
      MAX_CONCURRENT_JOBS: String(SLOTS),
    });
    services.push(adapter);
    const execute = {
      url: `${adapter.url}/python/execute`,
      body: JSON.stringify({ properties: { code: 'print("Hello, World!")' } }),
    };
    await runLoad({ ...execute, connections: SLOTS, durationSeconds: 1 });

    const capacity = (SLOTS * 1000) / ENGINE_DELAY_MS;
    const rate = 4 * capacity;
    context.progress(`overload: ${rate} req/s offered for ${LOAD_SECONDS} s`);
    const open = await runOpenLoop({
      ...execute,
      ratePerSecond: rate,
      durationSeconds: LOAD_SECONDS,
    });
    const admitted = latenciesOf(open, (status) => status === 200);
    const refused = latenciesOf(open, (status) => status === 429);
    const other = open.responses - admitted.length - refused.length + open.errors;
    const refusedP99 = percentile(refused, 99);

    context.progress(`overload: closed loop, ${4 * SLOTS * 2} connections`);
    const closed = await runLoad({
      ...execute,
      connections: 4 * SLOTS * 2,
      durationSeconds: LOAD_SECONDS,
    });
    const closedRefused = latenciesOf(closed, (status) => status === 429);
    return [
      info(
        SECTION,
        `set-up: ${SLOTS} slots, queue ${SLOTS}, ${ENGINE_DELAY_MS} ms per execution; capacity`,
        rps(capacity),
      ),
      info(
        SECTION,
        `offered 4x capacity (${rate} req/s, open loop)`,
        `${admitted.length} admitted (${rps(admitted.length / open.durationSeconds)}), ${refused.length} refused (429), ${other} other`,
      ),
      info(
        SECTION,
        'admitted p50 / p99 (an engine turn is 100 ms)',
        `${ms(percentile(admitted, 50), 1)} / ${ms(percentile(admitted, 99), 1)}`,
      ),
      info(SECTION, '429 answer time p50', ms(percentile(refused, 50))),
      target(SECTION, '429 answer time p99', ms(refusedP99), '<= 5 ms', refusedP99 <= 5),
      info(
        SECTION,
        `closed loop, ${4 * SLOTS * 2} connections (each re-sends at once): 429 p50 / p99`,
        `${ms(percentile(closedRefused, 50))} / ${ms(percentile(closedRefused, 99))} (${rps(closedRefused.length / closed.durationSeconds)} refused)`,
      ),
    ];
  } finally {
    for (const service of services.reverse()) await service.stop();
  }
};
