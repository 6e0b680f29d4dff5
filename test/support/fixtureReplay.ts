/**
 * Registers, in the calling test file, one local engine for an engine setup and one test per
 * fixture recorded against that setup: the recorded request goes in, the recorded reply must
 * come out (expectConformance says what is compared and what is localised).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PistonFixture } from './fixtures';
import {
  LocalEngine,
  PROCESS_DEADLINE_MS,
  requestThenLeave,
  type EngineReply,
} from './localEngine';
import {
  expectConformance,
  localiseProbePaths,
  fixtureLanguage,
  fixturesFor,
  installedVersions,
  Localiser,
  LOOSE_RUNS,
  SETUP_ENVIRONMENT,
  type ConformanceOptions,
  type EngineSetup,
  type LooseCheck,
  type Run,
} from './localEngineConformance';
import { waitFor } from './waitFor';

export interface ReplayOptions extends ConformanceOptions {
  /** Settings beyond the setup's own (e.g. the dialect). */
  env?: Record<string, string>;
  /** Called with every fixture's reply after the comparison, for dialect-specific checks. */
  alsoCheck?: (fixture: PistonFixture, reply: EngineReply) => void;
}

export interface Replay {
  readonly engine: LocalEngine;
  readonly localiser: Localiser;
  readonly fixtures: PistonFixture[];
  /** The versions of the tools on PATH, by language; null: not installed. */
  readonly versions: Map<string, string | null>;
}

/**
 * Fixtures recorded as taking over a second (they run into the 3 s run timeout) are all sent
 * at once as soon as the engine listens, and each test waits for its own, so that the file
 * does not wait out each timeout in turn.
 */
const isSlow = (fixture: PistonFixture) => Number(fixture._meta.elapsed_ms) > 1_000;

export function defineFixtureReplay(setup: EngineSetup, options: ReplayOptions = {}): Replay {
  const fixtures = fixturesFor(setup);
  // An engine offering no languages has none to localise.
  const versions =
    SETUP_ENVIRONMENT[setup].LOCAL_ENGINE_LANGUAGES === ''
      ? new Map<string, string | null>()
      : installedVersions();
  const offered = SETUP_ENVIRONMENT[setup].LOCAL_ENGINE_LANGUAGES?.split(',');
  /** A fixture about a language this machine lacks cannot match. */
  const missingLanguage = (fixture: PistonFixture): string | undefined => {
    const language = fixtureLanguage(fixture);
    if (language === undefined || offered?.includes(language) === false) return undefined;
    return versions.get(language) === null ? language : undefined;
  };
  const early = new Map<string, Promise<EngineReply>>();
  const state: { engine?: LocalEngine; localiser?: Localiser; probeDir?: string } = {};
  const replay: Replay = {
    get engine() {
      if (state.engine === undefined) throw new Error('the engine starts in beforeAll');
      return state.engine;
    },
    get localiser() {
      if (state.localiser === undefined) throw new Error('the engine starts in beforeAll');
      return state.localiser;
    },
    fixtures,
    versions,
  };

  beforeAll(async () => {
    const engine = new LocalEngine({ ...SETUP_ENVIRONMENT[setup], ...options.env });
    state.engine = engine;
    state.probeDir = mkdtempSync(path.join(os.tmpdir(), 'psa-probe-'));
    state.localiser = new Localiser(versions, await engine.jobsDir());
    for (const fixture of fixtures.filter((f) => isSlow(f) && !missingLanguage(f))) {
      const reply = send(fixture);
      // Awaited by the fixture's own test; until then a failure must not count as unhandled.
      reply.catch(() => undefined);
      early.set(fixture.name, reply);
    }
  });

  afterAll(async () => {
    await Promise.allSettled(early.values());
    await state.engine?.stop();
    if (state.probeDir !== undefined) rmSync(state.probeDir, { recursive: true, force: true });
  });

  const send = (fixture: PistonFixture) => replay.engine.request(replay.localiser.request(fixture));

  describe('recorded exchanges', () => {
    for (const fixture of fixtures) {
      const language = missingLanguage(fixture);
      if (language !== undefined) {
        test.skip(`${fixture.name} (${language} is not installed on this machine)`, () => {});
        continue;
      }
      const leaveAfterMs = fixture._meta.client_closed_after_ms;
      if (typeof leaveAfterMs === 'number') {
        test(fixture.name, () => replayDeparture(fixture, leaveAfterMs));
        continue;
      }
      test(fixture.name, async () => {
        const reply = await (early.get(fixture.name) ?? send(fixture));
        const check = LOOSE_RUNS[fixture.name];
        if (check !== undefined) {
          expectLooseConformance(fixture, reply, replay.localiser, check, options);
        } else expectConformance(fixture, reply, replay.localiser, options);
        options.alsoCheck?.(fixture, reply);
      });
    }
  });

  /**
   * A recorded client that left mid-run: no answer reaches it, and the job runs to its end
   * anyway (its marker files appear), as Piston does (contract section 5).
   */
  const replayDeparture = async (fixture: PistonFixture, leaveAfterMs: number) => {
    const probeDir = state.probeDir as string;
    const { request, markers } = localiseProbePaths(replay.localiser.request(fixture), probeDir);
    const departure = await requestThenLeave(await replay.engine.port(), request, leaveAfterMs);
    expect(departure.status).toBe(fixture.status);
    if (fixture._meta.job_ran_to_completion === true) {
      expect(markers.length).toBeGreaterThan(0);
      await waitFor(() => markers.every((marker) => existsSync(marker)), {
        timeoutMs: PROCESS_DEADLINE_MS,
        what: `the departed client's job to write ${markers.join(', ')}`,
      });
      for (const marker of markers) expect(readFileSync(marker, 'utf8')).toBe('done');
    }
  };

  return replay;
}

function expectLooseConformance(
  fixture: PistonFixture,
  reply: EngineReply,
  localiser: Localiser,
  check: LooseCheck,
  { stageView = (stage: Run) => stage }: ConformanceOptions,
): void {
  const { run: recorded, ...expected } = localiser.expectedBody(fixture) as { run: Run };
  const { run, ...actual } = localiser.actualBody(reply) as { run: Run };
  expect({ status: reply.status, contentType: reply.headers['content-type'], ...actual }).toEqual({
    status: fixture.status,
    contentType: fixture.headers['content-type'],
    ...expected,
  });
  check(recorded, stageView(run));
}
