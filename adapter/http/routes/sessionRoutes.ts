import express, { type Router } from 'express';
import type { AdapterConfig } from '../../config/config';
import type { EngineLimits } from '../../engine/engineLimits';
import type { EngineState } from '../../engine/engineState';
import type { ExecutionHistory } from '../../execution/executionHistory';
import type { FileStore } from '../../files/fileStore';
import { ADAPTER_NAME, ADAPTER_VERSION } from '../../meta';
import type { RuntimeCatalog } from '../../piston/runtimeCatalog';
import type { AdapterStats } from '../../stats/stats';
import { identifierOf } from '../requestContext';

export interface SessionRouteOptions {
  config: AdapterConfig;
  engineState: EngineState;
  catalog: RuntimeCatalog;
  store: FileStore;
  history: ExecutionHistory;
  stats: AdapterStats;
  /** The engine's own limits (launched, configured or learned). */
  engineLimits: EngineLimits;
}

/**
 * What a session pool forwards into custom containers besides executions and files:
 * `GET|DELETE /session` (clients delete when they close), `GET /listSessions` and
 * `GET /metadata`. A 404 here would read as "adapter not running" to an operator.
 */
export function sessionRoutes(options: SessionRouteOptions): Router {
  const { config, engineState, catalog, store, history, stats, engineLimits } = options;
  const router = express.Router();

  const describeSession = async (identifier: string | undefined) => {
    const files = await store.list(identifier);
    return {
      identifier: identifier ?? null,
      status: engineState.snapshot().state === 'ready' ? 'Running' : 'NotReady',
      engineState: engineState.snapshot().state,
      files: {
        count: files.length,
        totalBytes: files.reduce((sum, file) => sum + file.size, 0),
      },
      executionsKept: history.countFor(identifier),
      lastActivity: identifier === undefined ? null : (stats.lastActivityOf(identifier) ?? null),
    };
  };

  router.get('/session', async (req, res) => {
    res.status(200).json(await describeSession(identifierOf(req)));
  });

  // Azure ends the session: here that means its files and kept results go.
  router.delete('/session', async (req, res) => {
    const identifier = identifierOf(req);
    const filesRemoved = (await store.list(identifier)).length;
    await store.clear(identifier);
    const executionsRemoved = history.forget(identifier);
    res
      .status(200)
      .json({ identifier: identifier ?? null, deleted: true, filesRemoved, executionsRemoved });
  });

  router.get('/listSessions', async (_req, res) => {
    const identifiers = stats.recentIdentifiers();
    res.status(200).json({
      value: await Promise.all(identifiers.map((identifier) => describeSession(identifier))),
    });
  });

  router.get('/metadata', (_req, res) => {
    res.status(200).json({
      name: ADAPTER_NAME,
      version: ADAPTER_VERSION,
      engine: { state: engineState.snapshot().state, url: config.engine.url },
      defaultLanguage: config.defaultLanguage,
      languages: catalog.known().map((runtime) => ({
        language: runtime.language,
        version: runtime.version,
        aliases: runtime.aliases,
      })),
      limits: {
        defaultTimeoutSeconds: config.defaultTimeoutSeconds,
        maxTimeoutSeconds: config.maxTimeoutSeconds,
        outputMaxBytes: config.outputMaxBytes,
        requestBodyMaxBytes: config.bodyLimitBytes,
        engineBodyMaxBytes: config.engine.bodyLimitBytes,
        fileMaxBytes: config.files.maxFileBytes,
        filesMaxCount: config.files.maxCount,
        filesMaxTotalBytes: config.files.maxTotalBytes,
      },
      engineLimits: engineLimits.snapshot(),
      pythonResult: config.pythonResult,
    });
  });

  return router;
}
