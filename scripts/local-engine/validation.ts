/**
 * POST /api/v2/execute's body checked as Piston's `get_job` and Job constructor check it, in
 * the same order and with the same texts: the first failure wins. Also turns the request into
 * the job to run. Pure: unit-tested without processes.
 */
import type { Dialect, EngineConfig, StageLimits } from './config';
import { findRuntime, type Runtime } from './runtimes';

export type FileEncoding = 'utf8' | 'base64' | 'hex';

export interface JobFile {
  name: string;
  content: string;
  encoding: FileEncoding;
}

export interface JobSpec {
  runtime: Runtime;
  files: JobFile[];
  /** The entry point: the first utf8 file. */
  entryFile: JobFile;
  args: string[];
  /** Always ends with a newline, as Piston sends it. */
  stdin: string;
  timeouts: StageLimits;
  memoryLimits: StageLimits;
}

export type Validation =
  | { ok: true; job: JobSpec }
  /** `body` undefined: an empty reply, as Piston gives when the job itself fails. */
  | { ok: false; status: 400 | 500; body?: unknown };

type Constraint = 'memory_limit' | 'timeout' | 'cpu_time';

/** master added cpu_time; v3.1.1 checks only these two. */
const CONSTRAINTS: Record<Dialect, readonly Constraint[]> = {
  v3: ['memory_limit', 'timeout'],
  master: ['memory_limit', 'timeout', 'cpu_time'],
};

const ENCODINGS: readonly string[] = ['base64', 'hex', 'utf8'];

const reject = (message: string): Validation => ({ ok: false, status: 400, body: { message } });

/**
 * Piston answers 400 with its error serialised as JSON where its Job constructor throws a
 * TypeError (e.g. `stdin.slice is not a function`): a TypeError serialises as `{}`.
 */
const typeErrorReply: Validation = { ok: false, status: 400, body: {} };

/** Where Piston's job fails after validation (writing files, starting the stage): 500, empty. */
const jobFailure: Validation = { ok: false, status: 500 };

export function validateExecuteRequest(
  body: unknown,
  runtimes: readonly Runtime[],
  config: EngineConfig,
): Validation {
  const request = (typeof body === 'object' && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  const { language, version, files } = request;
  if (!language || typeof language !== 'string') return reject('language is required as a string');
  if (!version || typeof version !== 'string') return reject('version is required as a string');
  if (!files || !Array.isArray(files)) return reject('files is required as an array');
  for (const [i, file] of (files as unknown[]).entries()) {
    // `file.content` of null throws in Piston; of any other non-object it is undefined.
    if (file === null || file === undefined) return typeErrorReply;
    if (typeof (file as { content?: unknown }).content !== 'string') {
      return reject(`files[${i}].content is required as a string`);
    }
  }
  const requestFiles = files as { name?: unknown; content: string; encoding?: unknown }[];

  const runtime = findRuntime(runtimes, language, version);
  if (runtime === undefined) return reject(`${language}-${version} runtime is unknown`);

  if (!requestFiles.some((file) => !file.encoding || file.encoding === 'utf8')) {
    return reject('files must include at least one utf8 encoded file');
  }

  const configured: Record<Constraint, StageLimits> = {
    memory_limit: config.memoryLimits,
    timeout: config.timeouts,
    cpu_time: config.cpuTimes,
  };
  for (const constraint of CONSTRAINTS[config.dialect]) {
    for (const stage of ['compile', 'run'] as const) {
      const name = `${stage}_${constraint}`;
      const value = request[name];
      const limit = configured[constraint][stage];
      if (!value) continue;
      if (typeof value !== 'number') return reject(`If specified, ${name} must be a number`);
      if (limit <= 0) continue;
      if (value > limit) return reject(`${name} cannot exceed the configured limit of ${limit}`);
      if (value < 0) return reject(`${name} must be non-negative`);
    }
  }

  // v3.1.1 defaults with `||`, master with `??` (so master passes a stdin of 0 on, and fails).
  const orDefault = <T>(value: unknown, fallback: T) =>
    config.dialect === 'v3' ? value || fallback : (value ?? fallback);
  const stdin = jobStdin(orDefault(request.stdin, ''));
  if (stdin === null) return typeErrorReply;

  const jobFiles: JobFile[] = [];
  for (const [i, file] of requestFiles.entries()) {
    const name = file.name || `file${i}.code`;
    // Piston's path.join throws on a non-string name while it writes the files.
    if (typeof name !== 'string') return jobFailure;
    const encoding = ENCODINGS.includes(file.encoding as string)
      ? (file.encoding as FileEncoding)
      : 'utf8';
    jobFiles.push({ name, content: file.content, encoding });
  }
  // Not undefined: the utf8 check above found one (an unknown encoding also counts as utf8).
  const entryFile = jobFiles.find((file) => file.encoding === 'utf8') as JobFile;

  const args = jobArgs(orDefault(request.args, []));
  // Piston spreads args into the command line when the run starts: a non-iterable throws there.
  if (args === null) return jobFailure;

  // A limit of 0 means the configured one in both dialects. (master would hand 0 to isolate,
  // where it means no limit at all; the local engine never runs without a timeout by accident.)
  const stageValue = (name: string, fallback: number) => {
    const value = request[name];
    return typeof value === 'number' && value !== 0 ? value : fallback;
  };
  return {
    ok: true,
    job: {
      runtime,
      files: jobFiles,
      entryFile,
      args,
      stdin,
      timeouts: {
        compile: stageValue('compile_timeout', config.timeouts.compile),
        run: stageValue('run_timeout', config.timeouts.run),
      },
      memoryLimits: {
        compile: stageValue('compile_memory_limit', config.memoryLimits.compile),
        run: stageValue('run_memory_limit', config.memoryLimits.run),
      },
    },
  };
}

/** Piston's `if (stdin.slice(-1) !== '\n') stdin += '\n'`; null where `slice` is missing. */
function jobStdin(raw: unknown): string | null {
  if (typeof raw === 'string') return raw.endsWith('\n') ? raw : `${raw}\n`;
  // An array has slice() too, its last element is never the string '\n', and += joins it.
  if (Array.isArray(raw)) return `${String(raw)}\n`;
  return null;
}

/** Piston's `[entry, ...args]`: a string spreads into its characters (args_not_array.json). */
function jobArgs(raw: unknown): string[] | null {
  if (typeof raw === 'string') return [...raw];
  // child_process.spawn turns each argument into a string.
  if (Array.isArray(raw)) return raw.map((arg) => String(arg));
  return null;
}
