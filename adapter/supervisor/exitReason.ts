import type { EngineExitStatus } from './engineProcess';

/** How many of the engine's last lines go into a reason; lastExit.stderrTail keeps more. */
const REASON_LINES = 5;

/**
 * One sentence an operator can act on, from one request to /health or an execute: how the
 * engine ended and what it said last, e.g. `engine exited with code 1; last stderr: Combined
 * cgroup v1+v2 mode is not supported`.
 */
export function describeExit(
  exit: EngineExitStatus,
  output: { stderr: string[]; stdout: string[] },
): string {
  let how: string;
  if (exit.error !== null) how = `engine command could not be started: ${exit.error}`;
  else if (exit.signal !== null) how = `engine was killed by ${exit.signal}`;
  else how = `engine exited with code ${exit.code ?? 'unknown'}`;
  return `${how}${describeOutput(output)}`;
}

/** The last lines the engine wrote, stderr first; some engines report fatal errors on stdout. */
export function describeOutput(output: { stderr: string[]; stdout: string[] }): string {
  const stderr = output.stderr.filter((line) => line.trim() !== '');
  if (stderr.length > 0) return `; last stderr: ${stderr.slice(-REASON_LINES).join(' | ')}`;
  const stdout = output.stdout.filter((line) => line.trim() !== '');
  if (stdout.length > 0)
    return `; no stderr; last stdout: ${stdout.slice(-REASON_LINES).join(' | ')}`;
  return '; it wrote nothing to stderr or stdout';
}
