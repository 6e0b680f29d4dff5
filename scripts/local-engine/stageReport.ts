/**
 * How a stage looks in the reply, in each dialect.
 *
 * v3.1.1: `{stdout, stderr, code, signal, output}`. A stage the engine killed (timeout, output
 * limit) reads `code: null, signal: "SIGKILL"`, with nothing saying why.
 *
 * master (isolate): isolate's metadata adds `memory`, `message`, `status`, `cpu_time`,
 * `wall_time`; status is "TO" (timeout), "OL"/"EL" (stdout/stderr limit), "RE" (non-zero exit),
 * "SG" (killed by a signal) or null, and a killed stage reads `signal: "SIGKILL"`. Keys are in
 * the order master's job.js builds them. `memory` is null here: nothing on this machine measures
 * a job's memory the way isolate's cgroup does.
 */
import os from 'node:os';
import type { Dialect } from './config';
import type { StageOutcome } from './stageProcess';

export interface V3Stage {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  output: string;
}

export type MasterStatus = 'TO' | 'OL' | 'EL' | 'RE' | 'SG' | 'XX';

export interface MasterStage {
  signal: string | null;
  stdout: string;
  stderr: string;
  code: number | null;
  output: string;
  memory: number | null;
  message: string | null;
  status: MasterStatus | null;
  cpu_time: number | null;
  wall_time: number | null;
}

const KILL_STATUS = { timeout: 'TO', 'stdout-limit': 'OL', 'stderr-limit': 'EL' } as const;
const KILL_MESSAGE = {
  timeout: 'Time limit exceeded (wall clock)',
  'stdout-limit': 'stdout length exceeded',
  'stderr-limit': 'stderr length exceeded',
} as const;

export function reportStage(outcome: StageOutcome, dialect: Dialect): V3Stage | MasterStage {
  const { stdout, stderr, output, killedFor } = outcome;
  // A kill wins over how the process happened to end: the reply says it was killed even when
  // it finished in the same instant (1025 bytes then exit), so the answer does not depend on
  // which of the two the event loop saw first.
  const code = killedFor === null ? outcome.code : null;
  const signal = killedFor === null ? outcome.signal : 'SIGKILL';
  if (dialect === 'v3') return { stdout, stderr, code, signal, output };

  let status: MasterStatus | null = null;
  let message: string | null = null;
  if (killedFor !== null) {
    status = KILL_STATUS[killedFor];
    message = KILL_MESSAGE[killedFor];
  } else if (signal !== null) {
    status = 'SG';
    message = `Caught fatal signal ${signalNumber(signal)}`;
  } else if (code !== 0) {
    status = 'RE';
    message = `Exited with error status ${code}`;
  }
  return {
    signal,
    stdout,
    stderr,
    code,
    output,
    memory: null,
    message,
    status,
    cpu_time: outcome.cpuTimeMs,
    wall_time: outcome.wallTimeMs,
  };
}

function signalNumber(signal: string): number | string {
  return (os.constants.signals as Record<string, number>)[signal] ?? signal;
}
