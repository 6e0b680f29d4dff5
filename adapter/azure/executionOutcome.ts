import type { PistonExecuteResponse, PistonStage } from '../piston/types';

export type StopReason = 'timeout' | 'outputLimit' | 'signal' | 'engineError';

export interface StageOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
}

/** A run timeout shorter than asked for: what was asked, what applied, and whose limit. */
export interface TimeoutClamp {
  requestedSeconds: number;
  appliedSeconds: number;
  /** adapter: MAX_TIMEOUT_SECONDS; engine: the engine's own run timeout limit. */
  by: 'adapter' | 'engine';
  /** Set when the request gave no timeout and DEFAULT_TIMEOUT_SECONDS was asked for. */
  defaulted?: boolean;
  reason: string;
}

/** One execution, dialect-free: what both Azure response shapes are built from. */
export interface ExecutionOutcome {
  succeeded: boolean;
  stdout: string;
  stderr: string;
  /** Value of the program's last expression, where the language gives one; else "". */
  result: unknown;
  executionTimeInMilliseconds: number;
  exitCode: number | null;
  signal: string | null;
  language: string;
  version: string;
  compile: StageOutcome | null;
  /** Why the engine stopped the program early, or null when it ran to its own end. */
  stopReason: StopReason | null;
  stopMessage: string | null;
  /**
   * Why a Python result is missing or cut (too large, no room in the output limit, the runner
   * left out), for operators; null when there is nothing to say. Clients ignore it.
   */
  resultNote: string | null;
  /** Present when the run timeout was clamped (see TimeoutClamp). */
  timeoutClamp?: TimeoutClamp;
}

export interface OutcomeContext {
  /** Wall time of the engine call, used where the engine reports none. */
  elapsedMs: number;
  runTimeoutMs: number;
  /** The engine's per-stream output limit, to explain v3's silent kills; null: not known. */
  outputMaxBytes: number | null;
}

/**
 * Reads either Piston dialect: v3.1.x (no stage status; timeouts and output-limit kills both
 * look like SIGKILL; run is a copy of compile after a compile error) and current master
 * (stage status TO/OL/EL/SG/RE/XX with a message; run omitted after a compile error).
 */
export function outcomeFromPiston(
  response: PistonExecuteResponse,
  context: OutcomeContext,
): ExecutionOutcome {
  const compile = response.compile ?? null;
  const compileFailed = compile !== null && !stageSucceeded(compile);
  // After a failed compile the program never ran: report the compiler's streams in both
  // dialects rather than v3's duplicate or master's nothing.
  const run = compileFailed ? compile : (response.run ?? compile);
  const stopped = compileFailed
    ? stopOf(compile, 'compile', context)
    : run
      ? stopOf(run, 'run', context)
      : null;
  return {
    succeeded: run !== null && !compileFailed && stageSucceeded(run),
    stdout: run?.stdout ?? '',
    stderr: run?.stderr ?? '',
    result: '',
    executionTimeInMilliseconds: Math.round(
      sumWallTime(compile, compileFailed ? null : (response.run ?? null)) ?? context.elapsedMs,
    ),
    exitCode: run?.code ?? null,
    signal: run?.signal ?? null,
    language: response.language,
    version: response.version,
    compile: compile && {
      stdout: compile.stdout,
      stderr: compile.stderr,
      exitCode: compile.code,
      signal: compile.signal,
    },
    stopReason: stopped?.reason ?? null,
    stopMessage: stopped?.message ?? null,
    resultNote: null,
  };
}

function stageSucceeded(stage: PistonStage): boolean {
  return stage.code === 0 && !stage.signal;
}

function stopOf(
  stage: PistonStage,
  name: 'compile' | 'run',
  context: OutcomeContext,
): { reason: StopReason; message: string } | null {
  switch (stage.status) {
    case 'TO':
      return { reason: 'timeout', message: `${name} stage exceeded its time limit` };
    case 'OL':
    case 'EL':
      return {
        reason: 'outputLimit',
        message: stage.message ?? `${name} stage exceeded the output limit`,
      };
    case 'SG':
      return { reason: 'signal', message: stage.message ?? `${name} stage got ${stage.signal}` };
    case 'XX':
      return { reason: 'engineError', message: stage.message ?? 'the engine failed internally' };
    default:
      break;
  }
  if (!stage.signal) return null;
  if (stage.signal === 'SIGKILL' && stage.code === null && name === 'run') {
    // v3 gives no status: its own kills are for the time limit or the output limit.
    const elapsed = stage.wall_time ?? context.elapsedMs;
    if (elapsed >= context.runTimeoutMs * 0.95) {
      return {
        reason: 'timeout',
        message: `run stage exceeded its time limit of ${context.runTimeoutMs} ms`,
      };
    }
    return {
      reason: 'outputLimit',
      message: `run stage was killed before its time limit: most likely output passed the engine's limit of ${context.outputMaxBytes === null ? 'unknown size (an attached engine does not say; ENGINE_OUTPUT_MAX_BYTES tells the adapter)' : `${context.outputMaxBytes} bytes`} per stream (the engine drops the chunk that crosses it)`,
    };
  }
  return { reason: 'signal', message: `${name} stage was terminated by ${stage.signal}` };
}

function sumWallTime(compile: PistonStage | null, run: PistonStage | null): number | null {
  const times = [compile?.wall_time, run?.wall_time].filter(
    (time): time is number => typeof time === 'number',
  );
  return times.length === 0 ? null : times.reduce((a, b) => a + b, 0);
}
