import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type AdapterConfig } from '../../adapter/config/config';
import { EngineState } from '../../adapter/engine/engineState';
import { createApp, type AdapterApp } from '../../adapter/http/app';
import { createLogger } from '../../adapter/logging/logger';

export interface TestApp extends AdapterApp {
  config: AdapterConfig;
  engineState: EngineState;
}

/** The real app against the given engine URL, with the engine marked ready and logs silent. */
export function buildTestApp(engineUrl: string, env: Record<string, string> = {}): TestApp {
  // A unique files folder per app: tests never share session files.
  const filesDir = mkdtempSync(path.join(os.tmpdir(), 'psa-files-'));
  const config = loadConfig({
    ENGINE_URL: engineUrl,
    LOG_LEVEL: 'silent',
    FILES_DIR: filesDir,
    ...env,
  });
  const engineState = new EngineState({ mode: 'attached', url: engineUrl, state: 'ready' });
  const logger = createLogger(config.logLevel);
  const adapter = createApp({ config, engineState, logger });
  return {
    ...adapter,
    config,
    engineState,
    close: async () => {
      await adapter.close();
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}
