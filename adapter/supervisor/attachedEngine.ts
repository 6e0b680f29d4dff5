import { settleWithin } from './deadline';
import { pollUntilHealthy } from './healthPoll';
import { watchHealth } from './healthWatch';
import { StartLatch, type StartOutcome } from './startLatch';
import type { ResolvedSupervisorOptions, Supervisor } from './supervisor';
import { warmUp } from './warmup';

/** How long stop() waits for a probe under way to notice the stop. */
const LOOP_WIND_DOWN_MS = 3_000;

/**
 * Attach mode (ENGINE_URL, no ENGINE_COMMAND): an engine someone else runs. Nothing to launch
 * or restart; the startup poll, then the health loop (healthWatch.ts): ENGINE_HEALTH_FAILURES
 * failed checks in a row move EngineState to degraded with the reason, one success back.
 */
export class AttachedEngine implements Supervisor {
  private readonly stopController = new AbortController();
  private readonly latch = new StartLatch();
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: ResolvedSupervisorOptions) {}

  private get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  start(): Promise<StartOutcome> {
    if (this.loop !== null) throw new Error('the supervisor was already started');
    this.loop = this.watch().catch((error: unknown) => {
      const reason = `engine health checks failed: ${error instanceof Error ? error.message : String(error)}`;
      this.options.logger.error({ err: error }, 'engine health checks failed');
      if (!this.stopSignal.aborted) this.options.engineState.update({ state: 'degraded', reason });
      this.latch.settle(false, reason);
    });
    return this.latch.outcome;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  /** Nothing of ours to kill: the engine belongs to someone else. */
  killNow(): void {}

  private async stopOnce(): Promise<void> {
    this.stopController.abort();
    this.options.engineState.update({ state: 'stopping', reason: 'the adapter is shutting down' });
    if (this.loop !== null) await settleWithin(this.loop, LOOP_WIND_DOWN_MS);
    this.latch.settle(false, 'the adapter stopped before the engine was ready');
  }

  private async watch(): Promise<void> {
    const { config, engineState, logger, timing, probe } = this.options;
    const { url, startTimeoutMs, healthIntervalMs } = config.engine;
    const started = performance.now();
    engineState.update({ reason: `waiting for the engine at ${url} to answer` });

    const poll = await pollUntilHealthy({
      probe,
      url,
      timing: timing.poll,
      deadlineMs: startTimeoutMs,
      signal: this.stopSignal,
      onDeadline: (lastError) => {
        if (this.stopSignal.aborted) return;
        const reason = `engine at ${url} did not answer GET /api/v2/runtimes within ${startTimeoutMs} ms: ${lastError}`;
        logger.error(
          { url, startTimeoutMs, lastError },
          'engine not answering by the startup deadline',
        );
        engineState.update({ state: 'degraded', reason });
        this.latch.settle(false, reason);
      },
    });
    if (!poll.healthy) return;
    logger.info(
      { url, durationMs: Math.round(performance.now() - started), probes: poll.probes },
      'engine answering',
    );
    await warmUp({
      url,
      languages: config.engine.warmupLanguages,
      logger,
      timeoutMs: startTimeoutMs,
      signal: this.stopSignal,
    });
    if (this.stopSignal.aborted) return;
    engineState.update({ state: 'ready' });
    logger.info({ url, startupMs: Math.round(performance.now() - started) }, 'engine ready');
    this.latch.settle(true, null);

    await watchHealth({
      probe,
      url,
      intervalMs: healthIntervalMs,
      probeTimeoutMs: timing.poll.probeTimeoutMs,
      failureThreshold: config.engine.healthFailures,
      signal: this.stopSignal,
      onUnhealthy: (lastError, failures) => {
        logger.error({ url, error: lastError, failures }, 'engine stopped answering');
        engineState.update({
          state: 'degraded',
          reason: `engine at ${url} stopped answering GET /api/v2/runtimes (${failures} checks in a row): ${lastError}`,
        });
      },
      onHealthy: () => {
        logger.info({ url }, 'engine answering again');
        engineState.update({ state: 'ready' });
      },
    });
  }
}
