/**
 * `npm run pool`: a local stand-in for an Azure Container Apps custom-container session pool.
 * Callers send `<path>?identifier=ID` to it as they would to the pool's management endpoint;
 * each identifier gets its own session, a real adapter process with its own engine.
 *
 * Settings: POOL_* (see config.ts and the README); every other variable goes to the sessions'
 * adapters. One JSON log line per event on stdout; "pool listening" says where it answers.
 * SIGTERM or SIGINT stops every session and exits 0.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../adapter/config/config';
import { createLogger } from '../../adapter/logging/logger';
import { loadPoolConfig, PoolConfigError, type PoolConfig } from './config';
import { createPoolApp, STATUS_PATH } from './poolApp';
import { SessionPool } from './sessionPool';
import { adapterMain, sessionEnvironment, sessionProcesses } from './sessionProcess';

const REPO_ROOT = path.resolve(__dirname, '../../..');
/** Slack on top of the session stop timeout before shutdown gives up and kills. */
const SHUTDOWN_SLACK_MS = 5_000;

/** Bad settings are the operator's to fix: name them and exit 2, as the adapter does. */
function configOrExit(): { config: PoolConfig; sessionEnv: Record<string, string> } {
  try {
    const config = loadPoolConfig();
    const sessionEnv = sessionEnvironment(process.env, REPO_ROOT);
    // Every session would fail the same way: say so once, now.
    loadConfig(sessionEnv);
    return { config, sessionEnv };
  } catch (error) {
    if (error instanceof PoolConfigError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const { config, sessionEnv } = configOrExit();
  // Split as the adapter splits ENGINE_COMMAND (execa is ESM: imported, not required).
  const command =
    config.sessionCommand === undefined
      ? undefined
      : (await import('execa')).parseCommandString(config.sessionCommand);
  const logger = createLogger(config.logLevel).child({ component: 'session-pool' });
  if (!existsSync(adapterMain(REPO_ROOT))) {
    logger.fatal(
      { missing: adapterMain(REPO_ROOT) },
      'the adapter is not built: run `npm run build`',
    );
    process.exit(1);
  }
  const sessionsDir = mkdtempSync(path.join(os.tmpdir(), 'piston-session-pool-'));
  chmodSync(sessionsDir, 0o711); // see SessionProcess: engines' job uids pass through it
  const processes = sessionProcesses({
    repoRoot: REPO_ROOT,
    env: sessionEnv,
    sessionsDir,
    startTimeoutMs: config.sessionStartTimeoutMs,
    stopTimeoutMs: config.sessionStopTimeoutMs,
    logger,
    ...(command !== undefined && { command }),
  });
  const pool = new SessionPool({
    maxSessions: config.maxSessions,
    readySessions: config.readySessions,
    cooldownMs: config.cooldownMs,
    launch: processes.launch,
    logger,
  });
  const poolApp = createPoolApp({ pool, token: config.token, name: config.name, logger });

  // Whatever way the pool ends, its sessions end with it.
  process.on('exit', () => {
    processes.killAll();
    rmSync(sessionsDir, { recursive: true, force: true });
  });
  const crash = (error: unknown): void => {
    logger.fatal({ err: error }, 'session pool crashed');
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const server: http.Server = poolApp.app.listen(config.port, config.host, (error?: Error) => {
    if (error) {
      logger.fatal({ err: error, host: config.host, port: config.port }, 'cannot listen');
      process.exit(1);
    }
    const address = server.address();
    logger.info(
      {
        host: config.host,
        port: typeof address === 'object' && address !== null ? address.port : config.port,
        maxSessions: config.maxSessions,
        readySessions: config.readySessions,
        cooldownSeconds: config.cooldownMs / 1000,
        auth: config.token === undefined ? 'none' : 'bearer token',
        ...(config.sessionCommand === undefined
          ? { engineCommand: sessionEnv.ENGINE_COMMAND }
          : { sessionCommand: config.sessionCommand }),
        sessionsDir,
        status: STATUS_PATH,
      },
      'pool listening',
    );
    pool.start();
  });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    logger.info({ signal, sessions: pool.status().sessions.length }, 'pool stopping');
    const failsafe = setTimeout(() => {
      logger.fatal('stopping the sessions overran its deadline; killing them');
      process.exit(1);
    }, config.sessionStopTimeoutMs + SHUTDOWN_SLACK_MS);
    // No new requests; those in flight finish as their sessions drain them.
    server.close();
    await pool.shutdown();
    server.closeAllConnections();
    await poolApp.close();
    clearTimeout(failsafe);
    logger.info({ durationMs: Math.round(performance.now() - started) }, 'pool stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`session pool: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
