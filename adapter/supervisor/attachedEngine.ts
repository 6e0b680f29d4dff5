import { EngineLifecycle } from './engineLifecycle';

/**
 * Attach mode (ENGINE_URL, no ENGINE_COMMAND): an engine someone else runs. Nothing to launch
 * or restart; the shared lifecycle's startup poll, then its health loop: ENGINE_HEALTH_FAILURES
 * failed checks in a row move EngineState to degraded with the reason, one success back.
 */
export class AttachedEngine extends EngineLifecycle {
  /** How long stop() waits for a probe under way to notice the stop. */
  protected readonly windDownMs = 3_000;

  /** Nothing of ours to kill: the engine belongs to someone else. */
  killNow(): void {}

  protected async releaseEngine(): Promise<void> {}

  protected async afterStopped(): Promise<void> {}

  protected async drive(): Promise<void> {
    const { config, engineState, logger, probe } = this.options;
    const { url, startTimeoutMs } = config.engine;
    engineState.update({ reason: `waiting for the engine at ${url} to answer` });

    const ready = await this.awaitReady({
      url,
      probe,
      signal: this.stopSignal,
      startedAt: performance.now(),
      fields: { url },
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
    if (!ready) return;

    await this.watch({
      url,
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
