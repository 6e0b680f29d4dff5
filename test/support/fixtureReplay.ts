/**
 * Registers, in the calling test file, one local engine for an engine setup and one test per
 * fixture recorded against that setup: the recorded request goes in, the recorded reply must
 * come out (expectConformance says what is compared and what is localised).
 */
import type { PistonFixture } from './fixtures';
import { LocalEngine, type EngineReply } from './localEngine';
import {
  expectConformance,
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
  const state: { engine?: LocalEngine; localiser?: Localiser } = {};
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
  });

  const send = (fixture: PistonFixture) => replay.engine.request(replay.localiser.request(fixture));

  describe('recorded exchanges', () => {
    for (const fixture of fixtures) {
      const language = missingLanguage(fixture);
      if (language !== undefined) {
        test.skip(`${fixture.name} (${language} is not installed on this machine)`, () => {});
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
