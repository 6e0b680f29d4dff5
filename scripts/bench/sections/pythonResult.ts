/**
 * Python results: what the result runner costs, on one engine in one run. Trivial Python
 * (`print(1)`) straight to the engine, through an adapter with Python results on (the
 * default), through a second adapter attached to the same engine with them off, and through
 * a bare node:http proxy (the floor any Node hop pays), taking turns so drift on the machine
 * hits all four alike: request by request at one connection, run by run at 16. The engine is
 * the local one, or the real Piston when REAL_PISTON_CMD is set (see benchEngine).
 *
 * Targets: the runner adds at most 3 ms at p50 at one connection (on minus off), and with
 * results on the adapter keeps at least 0.95 of the engine's own throughput at 16.
 *
 * At 16 connections the engine's jobs keep every core busy, and the adapter runs on the same
 * cores: each path's throughput is then the machine's CPU over what one request costs it. So
 * the section also reports CPU per request, for the whole machine (engine, jobs, hop) and for
 * each hop's own process, which says where a missed ratio went.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow, BenchSection } from '../types';
import { alternatingRequests, type AlternatingResult } from '../support/alternating';
import { addLoad, latenciesOf, percentile, runLoad, type LoadTotals } from '../support/load';
import { info, ms, ratio, rps, target } from '../support/rows';
import { cpuTimeMs, machineBusyMs, untilMachineQuiet } from '../support/proc';
import {
  benchEngine,
  startAdapter,
  startBareProxy,
  type AdapterService,
  type Service,
} from '../support/services';

const SECTION = 'python-result';
/**
 * Many short rounds rather than a few long ones: this machine's speed drifts by a quarter
 * within a minute, so each round's four paths run back to back, the ratios are taken within
 * the round, and pairs of rounds (see pairedMedian) make the figure. Even: whole pairs.
 */
const ROUNDS = 6;
const SECONDS_PER_ROUND = 4;
/**
 * Before each run at 16: the machine no busier than an idle one with the adapters' health
 * checks, so no run pays for the jobs and clean-ups the one before left running.
 */
const QUIET = { below: 0.15, windowMs: 200, timeoutMs: 5_000 };
/** Requests to each path at one connection, taking turns: about a minute in all. */
const TURNS_AT_ONE = 300;

const DIRECT_BODY = JSON.stringify({
  language: 'python',
  version: '*',
  files: [{ content: 'print(1)' }],
});
const ADAPTER_BODY = JSON.stringify({ properties: { code: 'print(1)' } });

interface Path extends LoadTotals {
  name: string;
  url: string;
  body: string;
  /** The hop's process, whose own CPU is counted (none for the engine directly). */
  pid: number | undefined;
  latencies: number[];
  /** Each round's throughput and p50, for the within-round ratios. */
  rounds: { throughput: number; p50: number }[];
  /** CPU the whole machine, and the hop's own process, spent over the path's runs. */
  machineCpuMs: number;
  hopCpuMs: number;
}

const path_ = (name: string, url: string, body: string, pid?: number): Path => ({
  name,
  url,
  body,
  pid,
  responses: 0,
  seconds: 0,
  latencies: [],
  failures: 0,
  rounds: [],
  machineCpuMs: 0,
  hopCpuMs: 0,
});

const hopCpu = (pid: number | undefined) => (pid === undefined ? 0 : cpuTimeMs(pid));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * One path's figure against another's, within each round, then over pairs of rounds: round
 * 2k runs the paths forwards and 2k+1 backwards (A B B A), so whatever running second does to
 * a path (the one before it may leave work behind) falls on each side once and cancels within
 * the pair. The figure is the median over pairs.
 */
function pairedMedian(
  paths: [Path, Path],
  figure: (round: { throughput: number; p50: number }) => number,
  combine: (a: number, b: number) => number,
  acrossPair: (forwards: number, backwards: number) => number,
): number {
  const [a, b] = paths;
  const perRound = a.rounds.map((round, index) =>
    combine(figure(round), figure(b.rounds[index] ?? round)),
  );
  const perPair: number[] = [];
  for (let index = 0; index + 1 < perRound.length; index += 2) {
    perPair.push(acrossPair(perRound[index] as number, perRound[index + 1] as number));
  }
  return median(perPair);
}

/** A ratio's pair: the geometric mean, which a factor on one side and its inverse cancel in. */
const geometricMean = (x: number, y: number) => Math.sqrt(x * y);
const mean = (x: number, y: number) => (x + y) / 2;

/** Each path's throughput and p50, in the paths' order: direct / on / off / bare proxy. */
function perPathRows(at: string, throughputs: number[], p50s: number[]): BenchRow[] {
  return [
    info(
      SECTION,
      `throughput direct / results on / off / bare proxy ${at}`,
      throughputs.map((value) => rps(value)).join(' / '),
    ),
    info(
      SECTION,
      `p50 direct / results on / off / bare proxy ${at}`,
      p50s.map((value) => ms(value)).join(' / '),
    ),
  ];
}

/** A row only when some request failed or answered other than 200. */
function failureRows(at: string, failures: number[]): BenchRow[] {
  if (!failures.some((count) => count > 0)) return [];
  return [
    info(SECTION, `non-200 or failed ${at} (direct / on / off / bare proxy)`, failures.join(' / ')),
  ];
}

/**
 * @1 conn: the four paths take turns request by request (alternating.ts), so the runner's
 * added p50 is not the machine's drift between one path's run and the next.
 */
async function oneAtATime(paths: readonly Path[]): Promise<BenchRow[]> {
  const results = await alternatingRequests(paths, TURNS_AT_ONE);
  const [straight, on, off] = results as [AlternatingResult, AlternatingResult, AlternatingResult];
  const at = '@1 conn';
  const p50 = (result: AlternatingResult) => percentile(result.latencies, 50);
  const perSecond = (result: AlternatingResult) =>
    result.latencies.length / Math.max(0.001, result.busyMs / 1000);
  const added = p50(on) - p50(off);
  return [
    ...perPathRows(at, results.map(perSecond), results.map(p50)),
    target(
      SECTION,
      `runner's added p50 (on - off, ${TURNS_AT_ONE} requests each, taking turns) ${at}`,
      ms(added),
      '<= 3 ms',
      added <= 3,
    ),
    info(
      SECTION,
      `throughput results on / direct ${at}`,
      ratio(perSecond(on) / perSecond(straight)),
    ),
    ...failureRows(
      at,
      results.map((r) => r.failures),
    ),
  ];
}

const CONNECTIONS = 16;

/**
 * @16 conn: each path saturates the machine in its turn, in rounds (forwards, then
 * backwards), and each ratio is the median of the ratios within a round.
 */
async function sixteenAtATime(
  paths: Path[],
  progress: (message: string) => void,
): Promise<BenchRow[]> {
  let busyStarts = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    // Forwards, then backwards: drift during the run hits every path alike.
    const order = round % 2 === 0 ? paths : [...paths].reverse();
    for (const measured of order) {
      progress(`python-result: ${measured.name}, ${CONNECTIONS} connections, round ${round + 1}`);
      if (!(await untilMachineQuiet(QUIET))) busyStarts += 1;
      const machineBefore = machineBusyMs();
      const hopBefore = hopCpu(measured.pid);
      const result = await runLoad({
        url: measured.url,
        body: measured.body,
        connections: CONNECTIONS,
        durationSeconds: SECONDS_PER_ROUND,
      });
      measured.machineCpuMs += machineBusyMs() - machineBefore;
      measured.hopCpuMs += hopCpu(measured.pid) - hopBefore;
      addLoad(measured, result);
      const latencies = latenciesOf(result, (status) => status === 200);
      measured.latencies.push(...latencies);
      measured.rounds.push({
        throughput: result.responses / result.durationSeconds,
        p50: percentile(latencies, 50),
      });
    }
  }
  const [straight, on, off, floor] = paths as [Path, Path, Path, Path];
  const throughput = (p: Path) => p.responses / p.seconds;
  const p50 = (p: Path) => percentile(p.latencies, 50);
  const perRequest = (cpuMs: number, p: Path) => cpuMs / Math.max(1, p.responses);
  const kept = (p: Path) =>
    pairedMedian(
      [p, straight],
      (round) => round.throughput,
      (a, b) => a / b,
      geometricMean,
    );
  const onKept = kept(on);
  const at = `@${CONNECTIONS} conn`;
  const rows = [
    ...perPathRows(at, paths.map(throughput), paths.map(p50)),
    info(
      SECTION,
      `runner's added p50 (on - off) ${at}`,
      ms(
        pairedMedian(
          [on, off],
          (round) => round.p50,
          (a, b) => a - b,
          mean,
        ),
      ),
    ),
    target(
      SECTION,
      `throughput results on / direct (median of ${ROUNDS / 2} forwards-backwards pairs of rounds) ${at}`,
      ratio(onKept),
      '>= 0.95',
      onKept >= 0.95,
    ),
    // How far one round is from the next says how much a single figure can be trusted here.
    info(
      SECTION,
      `throughput results on / direct, round by round ${at}`,
      on.rounds
        .map((round, index) =>
          ratio(round.throughput / (straight.rounds[index] ?? round).throughput),
        )
        .join(' '),
    ),
    info(SECTION, `throughput results off / direct ${at}`, ratio(kept(off))),
    info(
      SECTION,
      `throughput bare proxy / direct (the floor of a Node hop) ${at}`,
      ratio(kept(floor)),
    ),
    info(
      SECTION,
      `machine CPU per request direct / results on / off / bare proxy ${at}`,
      paths.map((p) => ms(perRequest(p.machineCpuMs, p), 1)).join(' / '),
    ),
    info(
      SECTION,
      `hop process CPU per request results on / off / bare proxy ${at}`,
      [on, off, floor].map((p) => ms(perRequest(p.hopCpuMs, p))).join(' / '),
    ),
  ];
  if (busyStarts > 0) {
    rows.push(
      info(
        SECTION,
        `runs started with the machine still busy (over ${QUIET.below * 100}% for ${QUIET.timeoutMs / 1000} s) ${at}`,
        `${busyStarts} of ${ROUNDS * paths.length}`,
      ),
    );
  }
  rows.push(
    ...failureRows(
      at,
      paths.map((p) => p.failures),
    ),
  );
  return rows;
}

/** The session folder of the image, where the runner starts code with nothing to map. */
const IMAGE_FILES_DIR = '/mnt/data';

/**
 * The session folder the adapters use: /mnt/data where it is there as in the image (open to
 * every uid, mode 0777, as the adapter itself would make it for jobs, and empty), so the rows
 * measure the image's runs and the bench changes nothing in it. Else a temporary one, where
 * each run also loads the runner's /mnt/data mapping (about 0.25 ms).
 */
function sessionFolder(): { dir: string; temporary: boolean } {
  try {
    const found = statSync(IMAGE_FILES_DIR);
    if (
      found.isDirectory() &&
      (found.mode & 0o777) === 0o777 &&
      readdirSync(IMAGE_FILES_DIR).length === 0
    ) {
      return { dir: IMAGE_FILES_DIR, temporary: false };
    }
  } catch {
    // Not there: a temporary folder below.
  }
  // Real Piston's jobs run as runner uids, which must be able to enter and write it.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'psa-bench-files-'));
  chmodSync(dir, 0o777);
  return { dir, temporary: true };
}

export const pythonResultSection: BenchSection = async (context) => {
  const engine = benchEngine(context.repoRoot);
  // A session folder that exists, as the file store keeps one: the runner starts the code
  // there (and says so in resultNote when it cannot).
  const session = sessionFolder();
  const filesDir = session.dir;
  context.progress(`python-result: against the ${engine.name}`);
  let withResults: AdapterService | undefined;
  let withoutResults: AdapterService | undefined;
  let bare: Service | undefined;
  const rows: BenchRow[] = [
    info(SECTION, 'engine', engine.name),
    info(
      SECTION,
      'session folder',
      session.temporary
        ? `${filesDir} (no empty ${IMAGE_FILES_DIR} of mode 0777 here: runs also map ` +
            `${IMAGE_FILES_DIR} paths, which the image's do not)`
        : `${IMAGE_FILES_DIR}, as in the image`,
    ),
  ];
  try {
    withResults = await startAdapter(context.repoRoot, {
      ENGINE_COMMAND: engine.command,
      LOCAL_ENGINE_LANGUAGES: 'python',
      PYTHON_RESULT: 'true',
      FILES_DIR: filesDir,
    });
    withoutResults = await startAdapter(context.repoRoot, {
      ENGINE_URL: withResults.engineUrl,
      ENGINE_FILESYSTEM: 'shared',
      PYTHON_RESULT: 'false',
      FILES_DIR: filesDir,
    });
    bare = await startBareProxy(context.repoRoot, withResults.engineUrl);
    const direct = `${withResults.engineUrl}/api/v2/execute`;
    context.progress('python-result: warming up');
    for (const [url, body] of [
      [direct, DIRECT_BODY],
      [`${withResults.url}/python/execute`, ADAPTER_BODY],
      [`${withoutResults.url}/python/execute`, ADAPTER_BODY],
      [`${bare.url}/api/v2/execute`, DIRECT_BODY],
    ] as const) {
      await runLoad({ url, body, connections: 4, durationSeconds: 2 });
    }

    const paths = [
      path_('direct', direct, DIRECT_BODY),
      path_(
        'results on',
        `${withResults.url}/python/execute`,
        ADAPTER_BODY,
        withResults.process.pid,
      ),
      path_(
        'results off',
        `${withoutResults.url}/python/execute`,
        ADAPTER_BODY,
        withoutResults.process.pid,
      ),
      path_('bare proxy', `${bare.url}/api/v2/execute`, DIRECT_BODY, bare.process.pid),
    ];
    context.progress(`python-result: one request at a time, ${TURNS_AT_ONE} turns of four paths`);
    rows.push(...(await oneAtATime(paths)));
    rows.push(...(await sixteenAtATime(paths, context.progress)));
  } finally {
    await bare?.stop();
    await withoutResults?.stop();
    await withResults?.stop();
    if (session.temporary) rmSync(filesDir, { recursive: true, force: true });
  }
  // print(1) writes nothing: anything left in the image's folder is news to whoever owns it.
  if (!session.temporary && readdirSync(filesDir).length > 0) {
    rows.push(
      info(SECTION, `left in ${IMAGE_FILES_DIR} after the runs`, readdirSync(filesDir).join(', ')),
    );
  }
  return rows;
};
