import { settleWithin } from '../timing/deadline';
import { pollUntilHealthy, type HealthProbe } from './healthPoll';
import { watchHealth } from './healthWatch';
import { StartLatch, type StartOutcome } from './startLatch';
import type { ResolvedSupervisorOptions, Supervisor } from './supervisor';
import { warmUp } from './warmup';

export interface ReadyOptions {
  url: string;
  probe: HealthProbe;
  /** Ends the wait: the engine exited, or the adapter stops. */
  signal: AbortSignal;
  /** performance.now() when this engine's start began. */
  startedAt: number;
  /** Called once if the start deadline passes first, with the last probe's error. */
  onDeadline(lastError: string): void;
  /** Fields for the log lines and the engine state (e.g. the engine's pid). */
  fields: Record<string, unknown>;
  /** Set on EngineState with `ready` (supervised: the engine's pid). */
  readyPatch?: { pid: number | null };
}

export interface WatchOptions {
  url: string;
  signal: AbortSignal;
  onUnhealthy(lastError: string, failures: number): void;
  onHealthy(): void;
}

/**
 * The engine's lifecycle, once for both modes: start (the first outcome settles the start
 * latch), probe until the engine answers, warm up, ready, then one health loop; stop with a
 * bounded wind-down. What differs is the driver's: supervised mode launches the engine and
 * relaunches it when it is lost (supervisedEngine.ts); attach mode only reports
 * (attachedEngine.ts).
 */
export abstract class EngineLifecycle implements Supervisor {
  protected readonly latch = new StartLatch();
  private readonly stopController = new AbortController();
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(protected readonly options: ResolvedSupervisorOptions) {}

  protected get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** The driver, from start until the stop signal. */
  protected abstract drive(): Promise<void>;
  /** On stop, before the driver winds down: end the engine (supervised) or nothing. */
  protected abstract releaseEngine(): Promise<void>;
  /** On stop, once the driver has wound down. */
  protected abstract afterStopped(): Promise<void>;
  /** How long stop() waits for the driver to notice the stop. */
  protected abstract readonly windDownMs: number;
  abstract killNow(): void;

  start(): Promise<StartOutcome> {
    if (this.loop !== null) throw new Error('the supervisor was already started');
    this.loop = this.drive().catch((error: unknown) => {
      // A bug here must neither leave startup waiting forever nor hide why nothing works.
      const reason = `engine supervision failed: ${error instanceof Error ? error.message : String(error)}`;
      this.options.logger.error({ err: error }, 'engine supervision failed');
      if (!this.stopSignal.aborted) this.options.engineState.update({ state: 'degraded', reason });
      this.latch.settle(false, reason);
    });
    return this.latch.outcome;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    this.stopController.abort();
    this.options.engineState.update({ state: 'stopping', reason: 'the adapter is shutting down' });
    await this.releaseEngine();
    // Every wait in the driver watches the stop signal, so it ends at once; bounded regardless.
    if (this.loop !== null) await settleWithin(this.loop, this.windDownMs);
    await this.afterStopped();
    this.latch.settle(false, 'the adapter stopped before the engine was ready');
  }

  /** Probes until the engine answers, warms it up, and makes it ready; false if it never did. */
  protected async awaitReady(options: ReadyOptions): Promise<boolean> {
    const { config, engineState, logger, timing } = this.options;
    const { url, signal, startedAt, fields } = options;
    const poll = await pollUntilHealthy({
      probe: options.probe,
      url,
      timing: timing.poll,
      deadlineMs: config.engine.startTimeoutMs,
      signal,
      onDeadline: options.onDeadline,
    });
    if (!poll.healthy) return false;
    logger.info(
      { ...fields, durationMs: Math.round(performance.now() - startedAt), probes: poll.probes },
      'engine answering',
    );
    await warmUp({
      url,
      languages: config.engine.warmupLanguages,
      logger,
      timeoutMs: config.engine.startTimeoutMs,
      signal,
    });
    if (signal.aborted) return false;
    engineState.update({ state: 'ready', ...options.readyPatch });
    logger.info(
      { ...fields, startupMs: Math.round(performance.now() - startedAt) },
      'engine ready',
    );
    this.latch.settle(true, null);
    return true;
  }

  /** The one health loop (healthWatch.ts), with this adapter's interval and threshold. */
  protected watch(options: WatchOptions): Promise<void> {
    const { config, timing, probe } = this.options;
    return watchHealth({
      probe,
      url: options.url,
      intervalMs: config.engine.healthIntervalMs,
      probeTimeoutMs: timing.poll.probeTimeoutMs,
      failureThreshold: config.engine.healthFailures,
      signal: options.signal,
      onUnhealthy: options.onUnhealthy,
      onHealthy: options.onHealthy,
    });
  }
}
