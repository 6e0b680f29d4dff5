/**
 * The container's entry point (scripts/start.sh execs `node dist/adapter/main.js`): launches or
 * attaches to the engine, waits until it answers (or is known not to), and only then opens
 * port 2000, so a request is never answered by nobody.
 */
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, type AdapterConfig } from './config/config';
import { EngineJobErrors } from './engine/engineJobErrors';
import { EngineState } from './engine/engineState';
import { createApp } from './http/app';
import { createLogger, type Logger } from './logging/logger';
import { openIngress } from './supervisor/ingress';
import { Shutdown } from './supervisor/shutdown';
import { createSupervisor, type Supervisor } from './supervisor/supervisor';

// The session container is small and the engine needs the memory, so the heap is kept near
// what it holds. V8's defaults let old space grow to several times what survived the last full
// collection and the young generation to 16 MB per semi-space: under 128 connections RSS went
// from 70 MB to 145-200 MB while the live set stayed near 25 MB. With old space growing by half
// and the young generation at its initial size the peak stays under 100 MB; the price, measured
// A/B at 32 connections against a zero-work engine, is about 15% more CPU per request (0.69 to
// 0.79 ms), worth paying where going over its memory limit kills the container. Both flags take effect
// when set at run time.
setFlagsFromString('--heap-growing-percent=50');
setFlagsFromString('--semi-space-growth-factor=1');

/** A bad variable is the operator's to fix: say which one, plainly, and exit 2. */
function loadConfigOrExit(): AdapterConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** One log line per change of state or reason, so the log tells the engine's story. */
function logStateChanges(engineState: EngineState, logger: Logger): void {
  let last = engineState.snapshot();
  engineState.on('change', (next) => {
    const changed = next.state !== last.state || next.reason !== last.reason;
    last = next;
    if (!changed) return;
    const { state, reason, pid, restarts, generation } = next;
    logger.info({ state, reason, enginePid: pid, restarts, generation }, 'engine state');
  });
}

function installProcessHandlers(logger: Logger, supervisor: Supervisor, shutdown: Shutdown): void {
  process.on('SIGTERM', () => void shutdown.begin('SIGTERM'));
  process.on('SIGINT', () => void shutdown.begin('SIGINT'));
  // The engine runs in its own process group, which no one else would clean up: whatever way
  // the adapter exits (a crash included), take the group down. Only SIGKILL of the adapter
  // escapes this; in a container the engine then dies with the container.
  process.on('exit', () => supervisor.killNow());
  const crash = (error: unknown): void => {
    logger.fatal({ err: error }, 'adapter crashed');
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const mode = config.engine.command === undefined ? 'attached' : 'supervised';
  const engineState = new EngineState({ mode, url: config.engine.url });
  logStateChanges(engineState, logger);
  const jobErrors = new EngineJobErrors();
  const supervisor = createSupervisor({ config, engineState, logger, jobErrors });
  const shutdown = new Shutdown({
    logger,
    supervisor,
    graceMs: config.shutdownGraceMs,
    stopTimeoutMs: config.engine.stopTimeoutMs,
    exit: (code) => process.exit(code),
  });
  installProcessHandlers(logger, supervisor, shutdown);

  logger.info(
    { mode, command: config.engine.command, engineUrl: config.engine.url, port: config.port },
    'adapter starting',
  );
  const outcome = await supervisor.start();
  // A signal during startup: the shutdown under way stops the engine and exits.
  if (shutdown.requested) return;
  if (outcome.ready) {
    logger.info({ engineStartupMs: outcome.durationMs }, 'engine started');
  } else if (config.engine.exitOnStartFailure) {
    logger.fatal(
      { reason: outcome.reason, engineStartupMs: outcome.durationMs },
      'engine failed to start; exiting (ENGINE_EXIT_ON_START_FAILURE)',
    );
    await supervisor.stop();
    process.exit(1);
  } else {
    logger.error(
      { reason: outcome.reason, engineStartupMs: outcome.durationMs },
      'engine not ready; opening ingress in degraded mode',
    );
  }

  // The supervisor resolved where the engine really is (ENGINE_PORT=0 picks a port at start).
  const engineUrl = engineState.snapshot().url;
  const appConfig = { ...config, engine: { ...config.engine, url: engineUrl } };
  const adapterApp = createApp({ config: appConfig, engineState, logger, jobErrors });
  const ingressStarted = performance.now();
  let ingress;
  try {
    ingress = await openIngress(adapterApp.app, config.host, config.port, config.server);
  } catch (error) {
    logger.fatal({ err: error, host: config.host, port: config.port }, 'cannot open ingress');
    await supervisor.stop();
    process.exit(1);
  }
  shutdown.attach(ingress.server, adapterApp);
  logger.info(
    {
      port: ingress.port,
      host: config.host,
      engineState: engineState.snapshot().state,
      engineStartupMs: outcome.durationMs,
      listenMs: Math.round(performance.now() - ingressStarted),
      // Since the adapter process started: engine startup plus our own.
      ingressAfterMs: Math.round(performance.now()),
    },
    'ingress open',
  );
}

void main();
