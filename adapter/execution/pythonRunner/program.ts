import semver from 'semver';
import type { PistonRuntime } from '../../piston/types';
import {
  RUNNER_BOOT_PY,
  RUNNER_PY,
  RUNNER_RARE_PY,
  RUNNER_UPLOADS_PY,
  RUNNER_WARM_PY,
} from './runnerPy';
import { randomHex } from './randomHex';

/** The runner's file name: hidden names are refused for uploads, so it never clashes. */
export const RUNNER_FILE_NAME = '.session_runner.py';
/** What tracebacks and sys.argv[0] call the user's code. */
export const USER_CODE_NAME = 'main.py';
/**
 * Results on stdout share the program's output limit, so they take at most an eighth of it,
 * and never more than this; longer ones come back as a cut repr, with a note.
 */
const STDOUT_RESULT_MAX_CHARS = 64 * 1024;
/** Results in a file cost the program nothing: room for a chart's PNG, not for a data dump. */
export const FILE_RESULT_MAX_CHARS = 1024 * 1024;

/** The runner's parts by the name runner_boot.py loads them under. */
export const RUNNER_PARTS: Readonly<Record<string, string>> = {
  runner: RUNNER_PY,
  rare: RUNNER_RARE_PY,
  uploads: RUNNER_UPLOADS_PY,
};

/**
 * For a remote engine the parts travel in the entry file, as strings: a string costs the
 * tokenizer next to nothing, and only the parts a run needs are compiled (runner_boot.py).
 * The same for every execution: quoted once.
 */
const INLINE_PARTS = `{${Object.entries(RUNNER_PARTS)
  .map(([part, source]) => `${pythonString(part)}: ${pythonString(source)}`)
  .join(', ')}}`;

/**
 * Python as a job carries it: without its comment lines, which are for readers of the .py
 * files, not for each job's bytes.
 */
const withoutComments = (source: string) =>
  source
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
/** The boot code, in every job. */
const BOOT_CODE = withoutComments(RUNNER_BOOT_PY);
/** The warm-up's code, in the warm-up job only: every other job would parse it for nothing. */
const WARM_CODE = withoutComments(RUNNER_WARM_PY);

/** Where jobs on the adapter's file system find the runner (see ResultFiles.runnerCode). */
export interface RunnerCodeFiles {
  /** Name prefix of each part's compiled code, the adapter's own (see ResultFiles.adoptWarmUp). */
  cachePrefix: string;
  /** Name prefix of each part's source (`<prefix><part>.py`), written by the adapter. */
  sourcePrefix: string;
  /** The uid whose cache files are run: the adapter's own (a job's uid may plant any name). */
  cacheOwner: number;
}

export interface RunnerOptions {
  /** The engine's output limit per stream: a result on stdout must leave the program room. */
  outputMaxBytes: number;
  /**
   * Where the runner writes its result when the engine's jobs share this file system (see
   * resultFiles.ts); null: on stdout behind the nonce, the one channel a remote engine has.
   */
  resultFile: string | null;
  /**
   * The session's folder when jobs work in it directly: the code starts there and /mnt/data
   * leads there. null: the files travel with the job, and /mnt/data leads to the job folder.
   */
  filesDir: string | null;
  /**
   * Where jobs find the runner's code and keep it compiled for the next run (the results
   * folder, see resultFiles.ts), or null: it travels in the entry file and is compiled on
   * every run.
   */
  runnerCode: RunnerCodeFiles | null;
}

export interface PythonRunnerProgram {
  /** The file to send first (the engine's entry point). */
  file: { name: string; content: string };
  /** Marks the result on stdout; it lives only in the runner's source, which deletes itself. */
  nonce: string;
  resultFile: string | null;
}

/** Python 3 only: the runner uses Python 3 syntax and library. */
export function runnerApplies(runtime: PistonRuntime): boolean {
  if (runtime.language !== 'python') return false;
  const version = semver.coerce(runtime.version);
  return version !== null && version.major >= 3;
}

export function resultMaxChars(options: RunnerOptions): number {
  if (options.resultFile !== null) return FILE_RESULT_MAX_CHARS;
  return Math.max(256, Math.min(STDOUT_RESULT_MAX_CHARS, Math.floor(options.outputMaxBytes / 8)));
}

/**
 * The runner file for one execution. stdin is not touched: the program gets the caller's as
 * it would in a plain job. The nonce and the result file's path are in the source only, and
 * the runner unlinks its own file before the code starts.
 */
export function wrapPythonCode(code: string, options: RunnerOptions): PythonRunnerProgram {
  const nonce = randomHex(16);
  const { runnerCode } = options;
  const call = [
    pythonString(code.replace(/^\uFEFF/, '')),
    pythonString(USER_CODE_NAME),
    pythonString(nonce),
    pythonStringOrNone(options.resultFile),
    pythonStringOrNone(options.filesDir),
    String(resultMaxChars(options)),
  ].join(', ');
  return {
    file: {
      name: RUNNER_FILE_NAME,
      content: [
        ...bootLines(runnerCode, true),
        "exec(_piston_session_code('runner'), globals())",
        `_piston_session_main(${call})`,
        '',
      ].join('\n'),
    },
    nonce,
    resultFile: options.resultFile,
  };
}

/**
 * The boot code and the settings it reads (runner_boot.py): with runner files, the cache to
 * load from (none for the warm-up, which compiles) and the sources' names; without, the
 * sources themselves.
 */
function bootLines(runnerCode: RunnerCodeFiles | null, useCache: boolean): string[] {
  const cache = useCache && runnerCode !== null ? runnerCode : null;
  return [
    BOOT_CODE,
    `_PISTON_SESSION_CACHE = ${pythonStringOrNone(cache?.cachePrefix ?? null)}`,
    `_PISTON_SESSION_CACHE_OWNER = ${cache === null ? 'None' : String(cache.cacheOwner)}`,
    `_PISTON_SESSION_SOURCES = ${runnerCode === null ? INLINE_PARTS : '{}'}`,
    `_PISTON_SESSION_SOURCE_FILES = ${pythonStringOrNone(runnerCode?.sourcePrefix ?? null)}`,
  ];
}

/**
 * The adapter's warm-up job for one Python: it compiles every part of the runner and writes
 * each to `<outPrefix><part>-<tag>`, for the adapter to copy into its cache as its own
 * (ResultFiles.adoptWarmUp). No user code runs in it, and outPrefix is known to it alone.
 */
export function warmUpProgram(
  runnerCode: RunnerCodeFiles,
  outPrefix: string,
): { name: string; content: string } {
  const parts = `[${Object.keys(RUNNER_PARTS).map(pythonString).join(', ')}]`;
  return {
    name: RUNNER_FILE_NAME,
    content: [
      ...bootLines(runnerCode, false),
      WARM_CODE,
      `_piston_session_warm(${pythonString(outPrefix)}, ${parts})`,
      '',
    ].join('\n'),
  };
}

/**
 * A JSON string is a valid Python string literal; it keeps the code out of the syntax. Python
 * cannot encode a lone surrogate into the file: treat it as the engine would, were the code
 * its file. (A leading byte-order mark, which Python reads in a file as nothing, is dropped by
 * the caller for the code.)
 */
function pythonString(text: string): string {
  return JSON.stringify(text.toWellFormed());
}

function pythonStringOrNone(text: string | null): string {
  return text === null ? 'None' : pythonString(text);
}
