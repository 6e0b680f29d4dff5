/**
 * What it takes to compare the local engine with the recorded Piston: which engine setup each
 * fixture was recorded against, which fixtures cannot match on this machine (and why), and
 * how a recorded exchange is carried over to this machine: runtime versions, job paths.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import { loadAllFixtures, loadFixture, type PistonFixture } from './fixtures';
import type { EngineReply, EngineRequest } from './localEngine';

/** The engine setups the fixtures were recorded against, as local engine settings. */
export type EngineSetup = 'main' | 'sideInstance' | 'noRuntimes' | 'patient';

export const SETUP_ENVIRONMENT: Record<EngineSetup, Record<string, string>> = {
  // Piston's defaults, all five languages: the main server of the recording.
  main: {},
  // The side instance: PISTON_RUN_MEMORY_LIMIT=100000000, python and bash installed via the
  // API (in that order, which is the order GET /api/v2/runtimes lists them in).
  sideInstance: { PISTON_RUN_MEMORY_LIMIT: '100000000', LOCAL_ENGINE_LANGUAGES: 'python,bash' },
  // The side instance before anything was installed.
  noRuntimes: { PISTON_RUN_MEMORY_LIMIT: '100000000', LOCAL_ENGINE_LANGUAGES: '' },
  // The main server's replies, for fixtures that fire many runs at once. Their replies do not
  // depend on the run timeout; a long one keeps a loaded CI machine (100 Pythons starting on
  // two cores) from turning a slow start into a kill, which would be a test of speed.
  patient: { PISTON_RUN_TIMEOUT: '30000' },
};

/** Fixtures recorded against another setup than `main`. */
const SETUP_OF: Record<string, EngineSetup> = {
  error_run_memory_limit_above_configured: 'sideInstance',
  error_run_memory_limit_negative_when_configured: 'sideInstance',
  run_memory_limit_default_configured_100mb: 'sideInstance',
  execute_after_api_install: 'sideInstance',
  runtimes_after_install: 'sideInstance',
  packages_install_text_plain: 'sideInstance',
  runtimes_empty: 'noRuntimes',
  execute_no_runtimes_installed: 'noRuntimes',
  concurrency_10: 'patient',
  concurrency_50: 'patient',
  concurrency_100: 'patient',
  latency_python_trivial_x20: 'patient',
};

const NO_PACKAGES =
  'the local engine manages no packages: the interpreters are those of this machine, and ' +
  '/api/v2/packages is not one of its routes (it answers 404 Not Found)';

const JOB_IDENTITY =
  'the local engine runs every job as its own user (no runner uids 1001..1500 to switch to) ' +
  'in a job folder under its temporary directory, not /piston/jobs; the uid, owner and cwd ' +
  'it prints are its own (contract section 5 gives what the real engine does)';

/** Fixtures that cannot match on any machine, with the reason. */
export const SKIPPED: Record<string, string> = {
  packages: NO_PACKAGES,
  packages_default_repo_offline_crash: NO_PACKAGES,
  packages_install_already_installed: NO_PACKAGES,
  packages_install_bad_checksum: NO_PACKAGES,
  packages_install_python: NO_PACKAGES,
  packages_install_semver_range: NO_PACKAGES,
  packages_install_unknown: NO_PACKAGES,
  packages_list_after_install: NO_PACKAGES,
  packages_list_none_installed: NO_PACKAGES,
  packages_uninstall_bash: NO_PACKAGES,
  packages_uninstall_not_installed: NO_PACKAGES,
  packages_uninstall_unknown: NO_PACKAGES,
  python_fork_bomb_nproc:
    'the local engine does not limit the process count: RLIMIT_NPROC counts every process ' +
    "of the user, and jobs run as the engine's own user, not as runner users of their own " +
    '(see stageProcess.ts)',
  python_job_identity_1: JOB_IDENTITY,
  python_job_identity_2: JOB_IDENTITY,
};

export function setupOf(name: string): EngineSetup {
  return SETUP_OF[name] ?? 'main';
}

/** The names in SKIPPED and SETUP_OF, to check that they all name recorded fixtures. */
export const PLANNED_FIXTURE_NAMES: readonly string[] = [
  ...Object.keys(SKIPPED),
  ...Object.keys(SETUP_OF),
];

/** The fixtures a setup replays, skipped ones left out. */
export function fixturesFor(setup: EngineSetup): PistonFixture[] {
  return loadAllFixtures().filter((f) => !(f.name in SKIPPED) && setupOf(f.name) === setup);
}

/** The language a recorded request or reply is about (canonical name), if any. */
export function fixtureLanguage(fixture: PistonFixture): string | undefined {
  const reply = fixture.body as { language?: unknown } | null;
  if (fixture.status === 200 && typeof reply?.language === 'string') return reply.language;
  const request = requestObject(fixture);
  if (typeof request?.language !== 'string') return undefined;
  return RECORDED_RUNTIMES.find(
    (rt) => rt.language === request.language || rt.aliases.includes(request.language as string),
  )?.language;
}

interface ApiRuntime {
  language: string;
  version: string;
  aliases: string[];
  runtime?: string;
}

/** What the recorded Piston had installed. */
export const RECORDED_RUNTIMES = loadFixture('runtimes').body as ApiRuntime[];

/**
 * The version of each language's tool on this machine, found the way a developer would check
 * it (not by asking the engine, whose answer is what the tests check); null: not installed.
 */
export function installedVersions(): Map<string, string | null> {
  const probe = (command: string) => {
    const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', timeout: 10_000 });
    return result.status === 0 ? (semver.coerce(result.stdout)?.version ?? null) : null;
  };
  return new Map([
    ['bash', probe('echo "$BASH_VERSION"')],
    ['c', probe('gcc -dumpfullversion')],
    ['c++', probe('g++ -dumpfullversion')],
    ['javascript', probe('node -p process.versions.node')],
    ['python', probe('python3 -c "import platform; print(platform.python_version())"')],
  ]);
}

/**
 * Carries a recorded exchange over to this machine. Versions: the recording's Python was
 * 3.11.2, this machine's may be another; a request naming the recorded version exactly asks
 * for "the installed one", so it names this machine's, and the expected reply says this
 * machine's wherever the recorded one showed the version (the `version` field, `python3.11`,
 * `(3, 11, 2)` printed by sys.version_info). Job paths: Piston runs jobs in
 * /piston/jobs/<uuid>/, the engine in its own jobs dir; tracebacks name them.
 */
export class Localiser {
  constructor(
    private readonly versions: Map<string, string | null>,
    private readonly jobsDir: string,
  ) {}

  localVersion(language: string): string | undefined {
    return this.versions.get(language) ?? undefined;
  }

  /** The recorded request as this machine needs it. */
  request(fixture: PistonFixture): EngineRequest {
    const { method, path, headers, body, body_is_raw } = fixture.request;
    let text: string | undefined;
    if (body_is_raw) text = String(body);
    else if (body !== null && body !== undefined) text = JSON.stringify(body);
    const language = fixtureLanguage(fixture);
    const recorded = RECORDED_RUNTIMES.find((rt) => rt.language === language)?.version;
    const local = language === undefined ? undefined : this.localVersion(language);
    const version = requestObject(fixture)?.version;
    if (
      text !== undefined &&
      recorded !== undefined &&
      local !== undefined &&
      version === recorded
    ) {
      // Textually, so that a raw body stays byte for byte as recorded otherwise.
      text = text.replace(/("version"\s*:\s*)"[^"]*"/, `$1"${local}"`);
    }
    return { method, path, headers, body: text };
  }

  /** The recorded reply body with this machine's versions and neutral job paths. */
  expectedBody(fixture: PistonFixture): unknown {
    let replacements: [RegExp, string][] = [];
    for (const rt of RECORDED_RUNTIMES) {
      if (fixture.name.startsWith('runtimes') || fixtureLanguage(fixture) === rt.language) {
        replacements = replacements.concat(this.versionReplacements(rt));
      }
    }
    return mapStrings(fixture.body, (text) =>
      replacements
        .reduce((result, [pattern, local]) => result.replace(pattern, local), text)
        .replace(/\/piston\/jobs\/[0-9a-f-]{36}\//g, JOB_DIR),
    );
  }

  /** An engine reply body with neutral job paths. */
  actualBody(reply: EngineReply): unknown {
    const jobPath = new RegExp(`${escapeRegExp(this.jobsDir)}/[0-9a-f-]{36}/`, 'g');
    return mapStrings(reply.json ?? reply.text, (text) => text.replace(jobPath, JOB_DIR));
  }

  private versionReplacements(rt: ApiRuntime): [RegExp, string][] {
    const local = this.localVersion(rt.language);
    const recorded = semver.parse(rt.version);
    const mine = local === undefined ? null : semver.parse(local);
    if (recorded === null || mine === null || recorded.version === mine.version) return [];
    const tuple = (v: semver.SemVer) => `(${v.major}, ${v.minor}, ${v.patch})`;
    // Not inside a longer number: 3.11.2 is not part of 13.11.25; 5.2.15(1)-release is bash's.
    const exactly = (text: string, after = '\\d') =>
      new RegExp(`(?<![\\d.])${escapeRegExp(text)}(?![${after}])`, 'g');
    return [
      [exactly(recorded.version), mine.version],
      [exactly(tuple(recorded)), tuple(mine)],
      // python3.11, the alias; not the start of another x.y.z.
      [exactly(`${recorded.major}.${recorded.minor}`, '\\d.'), `${mine.major}.${mine.minor}`],
    ];
  }
}

const JOB_DIR = '<job dir>/';

/** Where the recording's probe programs wrote their marker files (on the recording machine). */
const RECORDED_PROBE_DIR = '/var/tmp/piston-probe/';

/**
 * The request with the recording's probe paths moved into `dir` (a fresh temp dir of the
 * test's), and the marker files it will write there: what a job left behind is checked on
 * this machine, where nothing else writes those names.
 */
export function localiseProbePaths(
  request: EngineRequest,
  dir: string,
): { request: EngineRequest; markers: string[] } {
  const markers: string[] = [];
  const pattern = new RegExp(`${escapeRegExp(RECORDED_PROBE_DIR)}([\\w.-]+)`, 'g');
  const body = request.body?.replace(pattern, (_whole, name: string) => {
    const marker = path.join(dir, name);
    markers.push(marker);
    return marker;
  });
  return { request: { ...request, body }, markers };
}

function requestObject(fixture: PistonFixture): Record<string, unknown> | undefined {
  let body = fixture.request.body;
  if (fixture.request.body_is_raw) {
    try {
      body = JSON.parse(String(body));
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

export function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]),
    );
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether `output` is `stdout` and `stderr` merged, each in its own order. Piston's `output`
 * is the two pipes in the order their chunks were read; when a program writes to both within
 * microseconds, which pipe the event loop reads first is not determined (in Piston either).
 */
export function isInterleaving(output: string, stdout: string, stderr: string): boolean {
  if (output.length !== stdout.length + stderr.length) return false;
  // reachable[j]: output[0, i + j) can be stdout[0, i) merged with stderr[0, j).
  let reachable = Array.from({ length: stderr.length + 1 }, (_, j) =>
    stderr.startsWith(output.slice(0, j)),
  );
  for (let i = 1; i <= stdout.length; i += 1) {
    const next: boolean[] = [];
    for (let j = 0; j <= stderr.length; j += 1) {
      const c = output[i + j - 1];
      next.push(
        ((reachable[j] ?? false) && stdout[i - 1] === c) ||
          (j > 0 && (next[j - 1] ?? false) && stderr[j - 1] === c),
      );
    }
    reachable = next;
  }
  return reachable[stderr.length] ?? false;
}

/** Runs whose recorded form cannot be compared exactly, and what is checked instead. */
export const LOOSE_RUNS: Record<string, LooseCheck> = {
  // Ticks every 0.5 s until the 3 s kill: whether tick 5 or 6 (or, on a loaded machine, tick 4)
  // makes it depends on timing. The kill keeps what was printed before it.
  python_infinite_loop_with_output: (recorded, run) => {
    expect(run).toEqual({ ...recorded, stdout: expect.any(String), output: run.stdout });
    const ticks = String(run.stdout).split('\n').slice(0, -1);
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks).toEqual(ticks.map((_, i) => `tick ${i}`));
  },
  // Prints "start" at once, then sleeps into a 250 ms timeout: on a loaded machine Python may
  // not even have started by then. Whatever it printed is kept, and it is killed.
  python_sleep_custom_timeout_250: (recorded, run) => {
    expect(run).toEqual({ ...recorded, stdout: expect.any(String), output: run.stdout });
    expect(['', 'start\n']).toContain(run.stdout);
  },
  // 10 MB of address space is too little for Python to start; how it fails (the loader
  // failing to map libc, or Python aborting in its own init) depends on how the interpreter
  // was built, and the messages name its binary. It fails before running a line.
  python_memory_limit_small: (recorded, run) => {
    expect(run).toMatchObject({ stdout: '', signal: recorded.signal });
    expect(run.code).toEqual(expect.any(Number));
    expect(run.code).not.toBe(0);
    expect(run.stderr).not.toBe('');
    expect(run.output).toBe(run.stderr);
  },
  // Piston runs each job as a runner user of its own (uid 1001 here); the local engine runs
  // jobs as the user that started it.
  execute_after_api_install: (recorded, run) => {
    const uid = String(os.userInfo().uid);
    expect(run).toEqual(mapStrings(recorded, (text) => text.replace(/ok 1001\n/, `ok ${uid}\n`)));
  },
};

export type Run = Record<string, unknown>;

/** Checks a run whose recorded form cannot be compared exactly (the entry says why). */
export type LooseCheck = (recorded: Run, run: Run) => void;

type Stage = Record<string, unknown> & { stdout?: unknown; stderr?: unknown; output?: unknown };

/** The stage fields of Piston v3.1.1, in its order. */
export const V3_STAGE_KEYS = ['stdout', 'stderr', 'code', 'signal', 'output'] as const;

export interface ConformanceOptions {
  /** Applied to each stage of the engine's reply before comparing (e.g. a dialect's view). */
  stageView?: (stage: Stage) => Stage;
}

/**
 * The engine's reply compared with the recorded one: status and content type exactly, the body
 * exactly (key order included) after localising, except for two things that legitimately
 * differ. A `{"stack"}` body names the server's own source files in its frames, so only its
 * first line (error and message) is compared, and the rest must be stack frames. A stage's
 * `output` is compared as an interleaving of its stdout and stderr when both have data (see
 * isInterleaving); stdout and stderr themselves are compared exactly.
 */
export function expectConformance(
  fixture: PistonFixture,
  reply: EngineReply,
  localiser: Localiser,
  options: ConformanceOptions = {},
): void {
  expect({ status: reply.status, contentType: reply.headers['content-type'] ?? null }).toEqual({
    status: fixture.status,
    contentType: fixture.headers['content-type'] ?? null,
  });
  const expected = localiser.expectedBody(fixture);
  let actual = localiser.actualBody(reply);

  if (isStackBody(expected)) {
    expect(actual).toEqual({ stack: expect.any(String) });
    const [expectedFirst] = expected.stack.split('\n');
    const [actualFirst, ...frames] = (actual as { stack: string }).stack.split('\n');
    expect(actualFirst).toBe(expectedFirst);
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame).toMatch(/^ {4}at \S/);
    return;
  }

  if (isExecuteReply(expected) && isExecuteReply(actual)) {
    const view = options.stageView ?? ((stage: Stage) => stage);
    const mapped: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(actual)) {
      const expectedStage = expected[key];
      mapped[key] =
        (key === 'run' || key === 'compile') && isStage(value) && isStage(expectedStage)
          ? withMergedOutput(view(value), expectedStage)
          : value;
    }
    actual = mapped;
  }
  expect(actual).toEqual(expected);
  expect(keyOrder(actual)).toEqual(keyOrder(expected));
}

/** The stage with the expected `output` where its own is a valid merge of its two streams. */
function withMergedOutput(stage: Stage, expected: Stage): Stage {
  const { stdout, stderr, output } = stage;
  const bothStreams =
    typeof expected.stdout === 'string' &&
    typeof expected.stderr === 'string' &&
    expected.stdout !== '' &&
    expected.stderr !== '';
  if (
    bothStreams &&
    typeof stdout === 'string' &&
    typeof stderr === 'string' &&
    typeof output === 'string' &&
    isInterleaving(output, stdout, stderr)
  ) {
    return { ...stage, output: expected.output };
  }
  return stage;
}

function isStackBody(value: unknown): value is { stack: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { stack?: unknown }).stack === 'string'
  );
}

function isStage(value: unknown): value is Stage {
  return typeof value === 'object' && value !== null && 'stdout' in value;
}

function isExecuteReply(value: unknown): value is Record<string, unknown> & { run: Stage } {
  return typeof value === 'object' && value !== null && isStage((value as { run?: unknown }).run);
}

/** Every object's keys, in order, depth first: JSON's key order is part of what clients see. */
export function keyOrder(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keyOrder(item, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => [
    `${at}.${key}`,
    ...keyOrder(item, `${at}.${key}`),
  ]);
}
