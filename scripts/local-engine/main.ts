/**
 * The local engine: a Piston-API-compatible server (API v2) for development and tests, on
 * machines without Docker or Piston. The adapter's supervisor launches it exactly like Piston
 * (`node dist/scripts/local-engine/main.js`, settings in PISTON_* variables).
 *
 * NOT A SANDBOX. Submitted code runs as the user who started the engine, with that user's
 * files and network. That is why it binds loopback only, and why it never goes into the image.
 *
 * Settings (see config.ts): PISTON_BIND_ADDRESS (127.0.0.1:2000; port 0 picks a free one),
 * PISTON_RUN_TIMEOUT, PISTON_COMPILE_TIMEOUT, PISTON_OUTPUT_MAX_SIZE,
 * PISTON_MAX_CONCURRENT_JOBS, PISTON_RUN_MEMORY_LIMIT, PISTON_COMPILE_MEMORY_LIMIT,
 * PISTON_MAX_FILE_SIZE, PISTON_MAX_OPEN_FILES, PISTON_LOG_LEVEL, and our own
 * LOCAL_ENGINE_DIALECT (v3 | master), LOCAL_ENGINE_LANGUAGES (e.g. "python,bash") and
 * LOCAL_ENGINE_PISTON_DEFAULTS (true: Piston's default limits, whatever PISTON_* says) and
 * LOCAL_ENGINE_JOB_GROUPS_DIR (where running jobs' process groups are recorded; jobGroups.ts).
 *
 * On stdout, one JSON line per event; the line `{"msg":"listening","port":N,...}` says where
 * it answers. SIGTERM or SIGINT kills running jobs and exits at once.
 */
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeProcessFolder } from '../../adapter/files/processFolders';
import { ConfigError, parseConfig, type EngineConfig } from './config';
import { JobGroups } from './jobGroups';
import { JobSlots } from './jobSlots';
import { createLog, type Log } from './log';
import { discoverRuntimes, discoverTools } from './runtimeDiscovery';
import { createEngineServer } from './server';

function readConfig(): EngineConfig {
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLog('error').error('invalid configuration', { error: error.message });
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLog(config.logLevel);
  log.always(
    'warn',
    'NOT A SANDBOX: the local engine runs submitted code as this user, with its files and ' +
      'network. For development and tests only; it listens on loopback only.',
    { user: os.userInfo().username },
  );

  // Everything the engine writes lives here, and goes when it stops.
  const rootDir = makeProcessFolder('piston-local-engine-');
  const jobsDir = path.join(rootDir, 'jobs');
  mkdirSync(jobsDir);
  const runningGroups = new JobGroups(config.jobGroupsDir);
  let server: ReturnType<typeof createEngineServer> | undefined = undefined;
  let stopping = false;
  const stop = (reason: string, exitCode: number): void => {
    if (stopping) return;
    stopping = true;
    for (const pid of runningGroups) killGroup(pid);
    server?.closeAllConnections();
    server?.close();
    rmSync(rootDir, { recursive: true, force: true });
    log.info('stopped', { reason, killedJobs: runningGroups.size });
    process.exit(exitCode);
  };
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
  // A supervisor killed with SIGKILL cannot stop its engine; an orphan would keep its port
  // and its jobs for nobody. Piston has no such check, but it never runs outside a container.
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) stop('parent process exited', 0);
  }, 1_000).unref();
  process.on('uncaughtException', (error) => {
    log.error('crashed', { error: error.stack ?? error.message });
    stop('uncaught exception', 1);
  });

  const [tools, discovery] = await Promise.all([
    discoverTools(),
    discoverRuntimes(config.languages, path.join(rootDir, 'packages')),
  ]);
  if (tools === null) {
    log.error('bash is not on PATH: the local engine runs every stage with bash');
    return stop('no bash', 1);
  }
  reportDiscovery(log, config, discovery.missing, tools);

  server = createEngineServer({
    config,
    runtimes: discovery.runtimes,
    jobs: {
      jobsDir,
      config,
      tools,
      slots: new JobSlots(config.maxConcurrentJobs),
      runningGroups,
    },
    log,
  });
  server.once('error', (error) => {
    log.error('cannot listen', { error: error.message });
    stop('listen failed', 1);
  });
  server.listen(config.bindPort, config.bindHost, () => {
    const address = server?.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.bindPort;
    const host = config.bindHost.includes(':') ? `[${config.bindHost}]` : config.bindHost;
    log.always('info', 'listening', {
      host: config.bindHost,
      port,
      url: `http://${host}:${port}`,
      dialect: config.dialect,
      runtimes: discovery.runtimes.map((rt) => `${rt.language}-${rt.version}`),
      jobsDir,
    });
  });
}

function reportDiscovery(
  log: Log,
  config: EngineConfig,
  missing: { language: string; reason: string }[],
  tools: { timeout: string | null; prlimit: string | null },
): void {
  for (const { language, reason } of missing) {
    // Asked for by name: worth a warning. Merely not installed here: worth a note.
    const level = config.languages === null ? 'info' : 'warn';
    log[level]('language unavailable', { language, reason });
  }
  if (tools.prlimit === null) {
    log.warn('prlimit not found: no file size, open files or memory limits on jobs');
  }
  if (tools.timeout === null) {
    log.info('timeout not found: jobs have no second timeout if the engine is killed');
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

void main();
