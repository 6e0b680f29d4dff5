import express from 'express';
import type { AdapterConfig } from '../config/config';
import type { EngineJobErrors } from '../engine/engineJobErrors';
import type { EngineState } from '../engine/engineState';
import { ExecutionHistory } from '../execution/executionHistory';
import { ExecutionService } from '../execution/executionService';
import { untraversableAncestor } from '../files/folderReach';
import { FileStore } from '../files/fileStore';
import type { Logger } from '../logging/logger';
import { SERVED_BY } from '../meta';
import { PistonClient } from '../piston/pistonClient';
import { RuntimeCatalog } from '../piston/runtimeCatalog';
import { AdapterStats } from '../stats/stats';
import { accessLog } from './accessLog';
import { errorResponder, routeNotFound, type RouteDescription } from './errorHandling';
import { passthrough } from './passthrough';
import { requireValidIdentifier } from './requestContext';
import { executeRoutes } from './routes/executeRoutes';
import { fileRoutes } from './routes/fileRoutes';
import { sessionRoutes } from './routes/sessionRoutes';
import { statusRoutes } from './routes/statusRoutes';

export interface AppDependencies {
  config: AdapterConfig;
  engineState: EngineState;
  logger: Logger;
  /** The reasons the engine logged for jobs it failed (read by the supervisor). */
  jobErrors?: EngineJobErrors;
}

export interface AdapterApp {
  app: express.Express;
  /** Executions currently waiting on the engine (for draining on shutdown). */
  inFlight(): number;
  /** Releases the engine connection pools and listeners. */
  close(): Promise<void>;
}

export const ROUTES: RouteDescription[] = [
  { method: 'POST', path: '/:lang/execute', description: 'run code in any installed language' },
  { method: 'POST', path: '/code/execute', description: 'run code in the default language' },
  { method: 'POST', path: '/execute', description: 'run code in the default language' },
  { method: 'POST', path: '/executions', description: 'run code (generation B body and reply)' },
  { method: 'GET', path: '/executions/:id', description: 'a recent generation B execution' },
  {
    method: 'POST',
    path: '/files/upload',
    description: 'upload a session file (multipart "file")',
  },
  { method: 'POST', path: '/files', description: 'upload a session file (generation B)' },
  { method: 'GET', path: '/files', description: "list the session's files" },
  { method: 'GET', path: '/files/content/:name', description: "a file's bytes" },
  { method: 'GET', path: '/files/:name/content', description: "a file's bytes (generation B)" },
  { method: 'GET', path: '/files/:name', description: "a file's metadata" },
  { method: 'DELETE', path: '/files/:name', description: 'delete a session file' },
  { method: 'GET', path: '/session', description: "the session's files and state" },
  { method: 'DELETE', path: '/session', description: 'end the session: its files and results go' },
  { method: 'GET', path: '/listSessions', description: 'sessions seen by this container' },
  { method: 'GET', path: '/metadata', description: 'adapter, languages and limits' },
  { method: 'GET', path: '/health', description: '200 when the engine answers, else 503' },
  { method: 'GET', path: '/runtimes', description: 'installed languages and versions' },
  { method: 'GET', path: '/', description: 'adapter and engine status, counters' },
  { method: 'ANY', path: '/api/v2/*', description: "Piston's own API, passed through" },
];

/**
 * The adapter's HTTP side, built from its dependencies so tests can run it against any
 * engine address without globals. Port binding and process lifecycle live in main.ts.
 */
export function createApp(deps: AppDependencies): AdapterApp {
  const { config, engineState, logger } = deps;
  const stats = new AdapterStats(config.identifiersTracked);
  const client = new PistonClient(config.engine.url, {
    connections: config.maxConcurrentJobs + 8,
  });
  const catalog = new RuntimeCatalog(client, engineState);
  const store = new FileStore({
    dir: config.files.dir,
    maxFileBytes: config.files.maxFileBytes,
    maxCount: config.files.maxCount,
    maxTotalBytes: config.files.maxTotalBytes,
    engineFilesystem: config.files.engineFilesystem,
    engineBodyLimitBytes: config.engine.bodyLimitBytes,
  });
  warnIfJobsCannotReach(config, logger);
  const history = new ExecutionHistory(config.executionsKept);
  const service = new ExecutionService(config, engineState, client, catalog, store, deps.jobErrors);
  service.onLimitLearned = (learned) =>
    logger.warn(
      { limit: learned.name, value: learned.value, engineUrl: config.engine.url },
      'engine refused a request past its own limit; limit learned, request retried within it',
    );
  service.onRunnerWarmUp = ({ runtime, adopted, error }) => {
    if (error === undefined)
      logger.info({ runtime, adopted }, 'Python runner compiled for the cache');
    else logger.warn({ runtime, err: error }, 'Python runner warm-up failed: jobs compile it');
  };
  const proxy = passthrough({
    engineUrl: config.engine.url,
    allowPackageManagement: config.allowPackageManagement,
    maxSockets: config.maxConcurrentJobs + 8,
    service,
    logger,
    stats,
    sessionFiles: store,
    engineTimeoutMs: config.maxTimeoutSeconds * 1000 + config.engine.deadlineMarginMs,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('x-served-by', SERVED_BY);
    next();
  });
  app.use(accessLog(logger, stats));
  // Every route, the passthrough included: an identifier a pool would refuse is a 400 here,
  // never a session of its own nor a fall into the container's.
  app.use(requireValidIdentifier());
  // Before any body parser: the passthrough streams bodies to the engine untouched.
  app.use(proxy.handler);
  app.use(
    executeRoutes({
      service,
      stats,
      history,
      defaultLanguage: config.defaultLanguage,
      bodyLimitBytes: config.bodyLimitBytes,
    }),
  );
  app.use(fileRoutes({ store }));
  app.use(
    sessionRoutes({
      config,
      engineState,
      catalog,
      store,
      history,
      stats,
      engineLimits: service.limits,
    }),
  );
  app.use(statusRoutes({ config, engineState, client, catalog, service, stats }));
  app.use(routeNotFound(ROUTES));
  app.use(errorResponder(logger, stats));

  return {
    app,
    inFlight: () => service.inFlight(),
    close: async () => {
      service.dispose();
      proxy.agent.destroy();
      await client.close();
      if (config.files.dirIsPrivate) await store.destroy();
    },
  };
}

/**
 * As root (the image), the engine's jobs run as other uids: a session folder they cannot
 * reach would fail every file access in code, so say so once, at start, naming the folder.
 */
function warnIfJobsCannotReach(config: AdapterConfig, logger: Logger): void {
  if (config.files.engineFilesystem !== 'shared' || process.getuid?.() !== 0) return;
  const blocked = untraversableAncestor(config.files.dir);
  if (blocked === undefined) return;
  logger.warn(
    { filesDir: config.files.dir, blockedAt: blocked },
    `jobs running as other users cannot reach FILES_DIR: ${blocked} is not world-traversable (o+x)`,
  );
}
