import type { Logger } from '../logging/logger';
import { settleWithin } from '../timing/deadline';
import type { EngineExitStatus, EngineProcess } from './engineProcess';

/** After SIGKILL, how long to wait for the kernel to report the exit. */
const KILL_WAIT_MS = 2_000;

/**
 * SIGTERM to the engine's whole group (Piston and its running jobs), then SIGKILL to the group
 * if it has not exited within `stopTimeoutMs`. Resolves within stopTimeoutMs + KILL_WAIT_MS;
 * null means even SIGKILL was not seen to work (logged).
 */
export async function terminateEngine(
  engine: EngineProcess,
  stopTimeoutMs: number,
  logger: Logger,
): Promise<EngineExitStatus | null> {
  const started = performance.now();
  const enginePid = engine.pid;
  engine.signalGroup('SIGTERM');
  let outcome = await settleWithin(engine.exited, stopTimeoutMs);
  if (!outcome.settled) {
    logger.warn({ enginePid, stopTimeoutMs }, 'engine ignored SIGTERM; sending SIGKILL');
    engine.signalGroup('SIGKILL');
    outcome = await settleWithin(engine.exited, KILL_WAIT_MS);
  }
  const durationMs = Math.round(performance.now() - started);
  if (!outcome.settled) {
    logger.error({ enginePid, durationMs }, 'engine did not exit even after SIGKILL');
    return null;
  }
  logger.info({ enginePid, durationMs, ...outcome.value }, 'engine stopped');
  return outcome.value;
}
