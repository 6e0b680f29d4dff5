import { randomBytes } from 'node:crypto';
import semver from 'semver';
import type { PistonRuntime } from '../../piston/types';
import { RUNNER_BOOT_PY, RUNNER_PY, RUNNER_RARE_PY, RUNNER_UPLOADS_PY } from './runnerPy';

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

/**
 * The runner's code as strings: a string costs the tokenizer next to nothing; it is compiled
 * once per Python where there is a cache (runner_boot.py), and its rare parts only when
 * needed (runner.py, _piston_session_load). The same for every execution: quoted once.
 */
const RUNNER_DEFINITIONS = [
  RUNNER_BOOT_PY,
  `_PISTON_SESSION_RUNNER = ${pythonString(RUNNER_PY)}`,
  `_PISTON_SESSION_RARE = ${pythonString(RUNNER_RARE_PY)}`,
  `_PISTON_SESSION_UPLOADS = ${pythonString(RUNNER_UPLOADS_PY)}`,
].join('\n');

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
   * Where jobs may keep the runner's compiled code for the next run (a name prefix in the
   * results folder, see resultFiles.ts), or null: compiled on every run.
   */
  codeCache: string | null;
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
  const nonce = randomBytes(16).toString('hex');
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
        RUNNER_DEFINITIONS,
        `exec(_piston_session_boot(${pythonStringOrNone(options.codeCache)}), globals())`,
        `_piston_session_main(${call})`,
        '',
      ].join('\n'),
    },
    nonce,
    resultFile: options.resultFile,
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
