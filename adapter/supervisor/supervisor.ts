import type { AdapterConfig } from '../config/config';
import type { EngineJobErrors } from '../engine/engineJobErrors';
import type { EngineState } from '../engine/engineState';
import type { Logger } from '../logging/logger';
import { AttachedEngine } from './attachedEngine';
import { probeRuntimes, type HealthProbe, type PollTiming } from './healthPoll';
import { portOwner, type PortOwner } from './portOwner';
import type { StartOutcome } from './startLatch';
import { SupervisedEngine } from './supervisedEngine';

export type { StartOutcome } from './startLatch';

/**
 * Keeps EngineState accurate for the HTTP app: launches (or attaches to) the engine, waits for
 * it to answer, restarts it when it dies, and stops it on shutdown.
 */
export interface Supervisor {
  /**
   * Resolves on the first outcome: ready, degraded (the engine exited or did not answer by
   * ENGINE_START_TIMEOUT_MS), or stopped. Supervision continues in the background.
   */
  start(): Promise<StartOutcome>;
  /** Stops supervising and the engine (SIGTERM, then SIGKILL); bounded by the stop timeout. */
  stop(): Promise<void>;
  /** Last resort when the adapter itself is exiting: SIGKILL the engine's group, synchronously. */
  killNow(): void;
}

export interface SupervisorTiming {
  poll: PollTiming;
  /** First restart delay; doubles per consecutive failure up to ENGINE_RESTART_MAX_BACKOFF_MS. */
  restartBaseMs: number;
  /** A run ready this long resets the restart backoff. */
  stableAfterMs: number;
}

export interface SupervisorOptions {
  config: AdapterConfig;
  engineState: EngineState;
  logger: Logger;
  /** Overrides, for tests. */
  timing?: Partial<Omit<SupervisorTiming, 'poll'>> & { poll?: Partial<PollTiming> };
  probe?: HealthProbe;
  /** Who holds a port; by default read from /proc (portOwner.ts). */
  portOwner?: (port: number, engineGroup: number) => PortOwner;
  /** Where the reasons the engine logs for failed jobs are kept, for executions to report. */
  jobErrors?: EngineJobErrors;
}

/** What the engine classes receive: options with every default filled in. */
export interface ResolvedSupervisorOptions {
  config: AdapterConfig;
  engineState: EngineState;
  logger: Logger;
  timing: SupervisorTiming;
  probe: HealthProbe;
  portOwner: (port: number, engineGroup: number) => PortOwner;
  jobErrors?: EngineJobErrors | undefined;
}

export function defaultTiming(config: AdapterConfig): SupervisorTiming {
  return {
    poll: {
      // Piston answers within ~1 s of launch: poll fast, so ingress opens within a probe gap
      // (at most 50 ms) of the engine's first answer. A refused connection on loopback costs
      // a fraction of a millisecond; past the start deadline polling slows to lateIntervalMs.
      initialIntervalMs: 10,
      factor: 1.5,
      maxIntervalMs: 50,
      lateIntervalMs: config.engine.healthIntervalMs,
      probeTimeoutMs: 2_000,
    },
    restartBaseMs: 250,
    stableAfterMs: 30_000,
  };
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const defaults = defaultTiming(options.config);
  const resolved: ResolvedSupervisorOptions = {
    config: options.config,
    engineState: options.engineState,
    logger: options.logger.child({ component: 'supervisor' }),
    probe: options.probe ?? probeRuntimes,
    jobErrors: options.jobErrors,
    // A faked probe (tests) reaches no port: nobody's socket there is the engine's or not.
    portOwner:
      options.portOwner ??
      (options.probe === undefined
        ? (port, group) => portOwner(port, group)
        : () => ({ kind: 'unknown', why: 'the probe is not a network one' })),
    timing: {
      ...defaults,
      ...options.timing,
      poll: { ...defaults.poll, ...options.timing?.poll },
    },
  };
  const command = options.config.engine.command;
  return command === undefined
    ? new AttachedEngine(resolved)
    : new SupervisedEngine(resolved, command);
}
