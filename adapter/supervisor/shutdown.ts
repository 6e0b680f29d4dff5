import type http from 'node:http';
import type { AdapterApp } from '../http/app';
import type { Logger } from '../logging/logger';
import { settleWithin } from '../timing/deadline';
import { closeIngress } from './ingress';
import type { Supervisor } from './supervisor';

/** Slack on top of the grace and stop timeouts before shutdown gives up and exits 1. */
const FAILSAFE_SLACK_MS = 5_000;
/** How long the app may take to release its engine connections. */
const APP_CLOSE_MS = 2_000;

export interface ShutdownOptions {
  logger: Logger;
  supervisor: Supervisor;
  graceMs: number;
  stopTimeoutMs: number;
  exit: (code: number) => void;
}

/**
 * SIGTERM/SIGINT: stop accepting, let requests in flight finish (SHUTDOWN_GRACE_MS), then stop
 * the engine (SIGTERM, SIGKILL after ENGINE_STOP_TIMEOUT_MS) and exit 0. The engine is stopped
 * only after the drain, because the requests in flight need it. A signal before ingress opens
 * just stops the engine.
 */
export class Shutdown {
  private ingress: { server: http.Server; app: AdapterApp } | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: ShutdownOptions) {}

  get requested(): boolean {
    return this.running !== null;
  }

  attach(server: http.Server, app: AdapterApp): void {
    this.ingress = { server, app };
  }

  begin(signal: string): Promise<void> {
    if (this.running !== null) {
      this.options.logger.warn({ signal }, 'shutdown already under way');
      return this.running;
    }
    this.running = this.run(signal);
    return this.running;
  }

  private async run(signal: string): Promise<void> {
    const { logger, supervisor, graceMs, stopTimeoutMs, exit } = this.options;
    const started = performance.now();
    // Every step below is bounded; this only guards against a bug in one of them.
    const failsafe = setTimeout(
      () => {
        logger.fatal('shutdown overran its deadline; exiting');
        supervisor.killNow();
        exit(1);
      },
      graceMs + stopTimeoutMs + FAILSAFE_SLACK_MS,
    );
    const ingress = this.ingress;
    logger.info({ signal, inFlight: ingress?.app.inFlight() ?? 0, graceMs }, 'shutdown started');
    if (ingress !== null) {
      await closeIngress(ingress.server, graceMs, ingress.app.inFlight, logger);
    }
    await supervisor.stop();
    if (ingress !== null) {
      const closing = ingress.app
        .close()
        .catch((error: unknown) => logger.warn({ err: error }, 'closing the app failed'));
      await settleWithin(closing, APP_CLOSE_MS);
    }
    clearTimeout(failsafe);
    logger.info({ durationMs: Math.round(performance.now() - started) }, 'shutdown complete');
    exit(0);
  }
}
