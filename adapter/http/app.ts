import express from 'express';
import type { AdapterConfig } from '../config/config';
import type { EngineState } from '../engine/engineState';
import { ExecutionService } from '../execution/executionService';
import type { Logger } from '../logging/logger';
import { SERVED_BY } from '../meta';
import { PistonClient } from '../piston/pistonClient';
import { RuntimeCatalog } from '../piston/runtimeCatalog';
import { AdapterStats } from '../stats/stats';
import { accessLog } from './accessLog';
import { errorResponder, routeNotFound, type RouteDescription } from './errorHandling';
import { passthrough } from './passthrough';
import { executeRoutes } from './routes/executeRoutes';
import { statusRoutes } from './routes/statusRoutes';

export interface AppDependencies {
  config: AdapterConfig;
  engineState: EngineState;
  logger: Logger;
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
  const service = new ExecutionService(config, engineState, client, catalog);
  const proxy = passthrough({
    engineUrl: config.engine.url,
    allowPackageManagement: config.allowPackageManagement,
    maxSockets: config.maxConcurrentJobs + 8,
    service,
    logger,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('x-served-by', SERVED_BY);
    next();
  });
  app.use(accessLog(logger, stats));
  // Before any body parser: the passthrough streams bodies to the engine untouched.
  app.use(proxy.handlers);
  app.use(
    executeRoutes({
      service,
      stats,
      defaultLanguage: config.defaultLanguage,
      bodyLimitBytes: config.bodyLimitBytes,
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
    },
  };
}
