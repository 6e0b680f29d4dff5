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

  const status = () => ({
    status: engineState.snapshot().state === 'ready' ? 'Running' : 'NotReady',
    engineState: engineState.snapshot().state,
  });

  /** From memory: no file-system work, whatever the number of identifiers asked about. */
  const describeFromMemory = (identifier: string) => {
    const usage = store.usage();
    const owns = usage.hasFiles && store.ownership.owner === identifier;
    return {
      identifier,
      ...status(),
      files: { holdsFiles: owns, totalBytes: owns ? usage.totalBytes : 0 },
      executionsKept: history.countFor(identifier),
      lastActivity: stats.lastActivityOf(identifier) ?? null,
    };
  };

  // The one session asked about: a read of its folder, 409 for another identifier's.
  router.get('/session', async (req, res) => {
    const identifier = identifierOf(req);
    const files = await store.list(identifier);
    res.status(200).json({
      identifier: identifier ?? null,
      ...status(),
      files: {
        count: files.length,
        totalBytes: files.reduce((sum, file) => sum + file.size, 0),
        folderBytes: store.usage().totalBytes,
        overLimit: store.usage().overLimit,
      },
      executionsKept: history.countFor(identifier),
      lastActivity: identifier === undefined ? null : (stats.lastActivityOf(identifier) ?? null),
    });
  });

  // Azure ends the session: its files (whatever code left too) and kept results go, and the
  // container is free for any identifier. Another identifier's session is a 409.
  router.delete('/session', async (req, res) => {
    const identifier = identifierOf(req);
    const { filesRemoved } = await store.clear(identifier);
    const executionsRemoved = history.forget(identifier);
    res
      .status(200)
      .json({ identifier: identifier ?? null, deleted: true, filesRemoved, executionsRemoved });
  });

  router.get('/listSessions', (_req, res) => {
    res.status(200).json({ value: stats.recentIdentifiers().map(describeFromMemory) });
  });

  router.get('/metadata', async (_req, res) => {
    // From the first request on, as GET / (an attached engine is ready before any execution).
    const runtimes = await catalog.listOrKnown();
    res.status(200).json({
      name: ADAPTER_NAME,
      version: ADAPTER_VERSION,
      engine: { state: engineState.snapshot().state, url: config.engine.url },
      defaultLanguage: config.defaultLanguage,
      languages: runtimes.map((runtime) => ({
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
      files: {
        // Where code finds the session's files: /mnt/data in the image.
        dir: config.files.dir,
        engineFilesystem: config.files.engineFilesystem,
      },
      engineLimits: engineLimits.snapshot(),
      pythonResult: config.pythonResult,
    });
  });

  return router;
}
