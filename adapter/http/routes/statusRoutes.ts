import express, { type Router } from 'express';
import type { AdapterConfig } from '../../config/config';
import type { EngineState } from '../../engine/engineState';
import type { ExecutionService } from '../../execution/executionService';
import { ADAPTER_NAME, ADAPTER_VERSION } from '../../meta';
import { EngineError } from '../../piston/engineError';
import type { PistonClient } from '../../piston/pistonClient';
import type { RuntimeCatalog } from '../../piston/runtimeCatalog';
import type { AdapterStats } from '../../stats/stats';
import { errors } from '../../errors/errorTable';
import { errorFromEngine } from '../../errors/fromEngine';

export interface StatusRouteOptions {
  config: AdapterConfig;
  engineState: EngineState;
  client: PistonClient;
  catalog: RuntimeCatalog;
  service: ExecutionService;
  stats: AdapterStats;
}

/** Health probes must answer fast even when the engine hangs. */
const HEALTH_PROBE_TIMEOUT_MS = 2_000;

export function statusRoutes(options: StatusRouteOptions): Router {
  const { config, engineState, client, catalog, service, stats } = options;
  const router = express.Router();

  // Session pools offer Startup and Liveness probes only: this answers both. It asks the
  // engine itself, so an engine that is alive but wedged also shows here.
  router.get('/health', async (_req, res) => {
    service.assertEngineReady();
    try {
      await client.runtimes({ timeoutMs: HEALTH_PROBE_TIMEOUT_MS });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      throw errors.engine_unhealthy({
        message: error.message,
        engineState: engineState.snapshot().state,
        cause: errorFromEngine(error).code,
      });
    }
    const snapshot = engineState.snapshot();
    res.json({ status: 'ok', engine: snapshot.state, restarts: snapshot.restarts });
  });

  router.get('/', async (_req, res) => {
    const runtimes = await catalog.listOrKnown();
    const uptimeSeconds = Math.round((Date.now() - stats.startedAt.getTime()) / 1000);
    res.json({
      name: ADAPTER_NAME,
      version: ADAPTER_VERSION,
      startedAt: stats.startedAt.toISOString(),
      uptimeSeconds,
      engine: engineState.snapshot(),
      defaultLanguage: config.defaultLanguage,
      runtimes,
      executionsInFlight: service.inFlight(),
      gate: service.gate.snapshot(),
      engineLimits: service.limits.snapshot(),
      ...stats.snapshot(),
    });
  });

  router.get('/runtimes', async (_req, res) => {
    service.assertEngineReady();
    let runtimes;
    try {
      runtimes = await catalog.list();
    } catch (error) {
      if (error instanceof EngineError) throw errorFromEngine(error);
      throw error;
    }
    res.json({
      defaultLanguage: config.defaultLanguage,
      runtimes: runtimes
        .map((runtime) => ({
          language: runtime.language,
          version: runtime.version,
          aliases: runtime.aliases,
          ...(runtime.runtime !== undefined && { runtime: runtime.runtime }),
        }))
        .sort((a, b) => a.language.localeCompare(b.language)),
    });
  });

  return router;
}
