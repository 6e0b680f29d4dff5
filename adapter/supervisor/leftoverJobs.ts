/**
 * Job processes a dead engine left behind. Piston spawns each job in a process group of its
 * own under a runner uid, and its time limits are timers inside the Piston process (contract
 * section 5): kill Piston and its jobs run on, holding CPU, memory and files, while a new
 * engine takes work. Piston itself cleans up after a job by killing every process of that
 * job's uid (api/src/job.js, cleanup_processes: real or effective uid). After an engine dies,
 * and before the next one starts, the same is done here for every runner uid, and for the
 * process groups the local engine records for its running jobs.
 */
import { listProcesses, type ProcessInfo } from './procTable';

export interface LeftoverScope {
  /** The engine's runner uids (Piston: 1001..1500); null: none (the engine runs jobs as itself). */
  uids: { min: number; max: number } | null;
  /** Process groups of jobs the engine said were running. */
  groups: readonly number[];
}

export interface SweepResult {
  /** Processes found and sent SIGKILL. */
  killed: number[];
  /** Still there (and not zombies) when the wait ran out. */
  survivors: number[];
}

const POLL_MS = 20;

function inScope(p: ProcessInfo, scope: LeftoverScope, self: number): boolean {
  if (p.pid === self || p.state === 'Z') return false;
  const { uids } = scope;
  if (uids !== null) {
    const ofRunner = (uid: number) => uid >= uids.min && uid <= uids.max;
    if (ofRunner(p.ruid) || ofRunner(p.euid)) return true;
  }
  return scope.groups.includes(p.pgid);
}

/** SIGKILLs every process in scope and waits (bounded) until none is left. */
export async function killLeftovers(
  scope: LeftoverScope,
  timeoutMs: number,
  procRoot = '/proc',
): Promise<SweepResult> {
  if (scope.uids === null && scope.groups.length === 0) return { killed: [], survivors: [] };
  const find = () => listProcesses(procRoot).filter((p) => inScope(p, scope, process.pid));
  const killed = new Set<number>();
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = find();
    if (left.length === 0) return { killed: [...killed], survivors: [] };
    if (performance.now() > deadline) {
      return { killed: [...killed], survivors: left.map((p) => p.pid) };
    }
    // Killed again each round: a job may fork between one scan and its kill.
    for (const p of left) {
      killed.add(p.pid);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile, or not ours to kill (then it is reported as a survivor).
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
