/**
 * The processes a section measures, each a real child: the built adapter (as the start script
 * runs it), the local engine under it, and the bench's two stand-ins.
 */
import path from 'node:path';
import { JsonLinesChild } from './child';

export interface Service {
  process: JsonLinesChild;
  url: string;
  stop(): Promise<void>;
}

export interface AdapterService extends Service {
  /** Where its engine answers (the supervised engine's own port, or the attached one). */
  engineUrl: string;
}

/** The caller's environment without settings that would change the adapter under test. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(ENGINE_|PISTON_|LOCAL_ENGINE_|ZERO_ENGINE_|BARE_PROXY_)/.test(name)) delete env[name];
  }
  delete env.NODE_OPTIONS;
  return env;
}

async function listeningStandIn(
  repoRoot: string,
  name: string,
  script: string,
  env: Record<string, string>,
): Promise<Service> {
  const child = new JsonLinesChild(
    name,
    process.execPath,
    [path.join(repoRoot, 'dist/scripts/bench', script)],
    { ...cleanEnvironment(), ...env },
    repoRoot,
  );
  const { line } = await child.waitForMessage('listening', 10_000);
  return {
    process: child,
    url: `http://127.0.0.1:${String(line.port)}`,
    stop: () => child.stop(),
  };
}

export function startBareProxy(repoRoot: string, targetUrl: string): Promise<Service> {
  return listeningStandIn(repoRoot, 'bare proxy', 'bareProxy.js', {
    BARE_PROXY_TARGET: targetUrl,
  });
}

/** ENGINE_COMMAND running a script with this Node (a space in a part escaped, as it expects). */
export function nodeScriptCommand(script: string): string {
  const quote = (part: string) => part.replace(/ /g, '\\ ');
  return `${quote(process.execPath)} ${quote(script)}`;
}

/** The command line the start script uses for the local engine. */
export function localEngineCommand(repoRoot: string): string {
  return nodeScriptCommand(path.join(repoRoot, 'dist/scripts/local-engine/main.js'));
}

/**
 * The engine the engine-bound rows measure: the real Piston when REAL_PISTON_CMD names a
 * command that runs one (it honours PISTON_BIND_ADDRESS, which the adapter sets), else the
 * local engine. Which one goes in the rows.
 */
export function benchEngine(repoRoot: string): { command: string; name: string } {
  const real = process.env.REAL_PISTON_CMD;
  if (real !== undefined && real !== '') return { command: real, name: 'real Piston' };
  return { command: localEngineCommand(repoRoot), name: 'local engine' };
}

/** The zero-work engine, launched and supervised by the adapter as Piston would be. */
export function zeroEngineCommand(repoRoot: string): string {
  return nodeScriptCommand(path.join(repoRoot, 'dist/scripts/bench/zeroEngine.js'));
}

/**
 * The built adapter (dist/adapter/main.js) on a free loopback port, logging at info as it
 * does in production. `env` picks the engine: ENGINE_COMMAND (supervised) or ENGINE_URL.
 * Returns at once; see adapterWhenOpen.
 */
export function launchAdapter(repoRoot: string, env: Record<string, string>): JsonLinesChild {
  return new JsonLinesChild(
    'adapter',
    process.execPath,
    [path.join(repoRoot, 'dist/adapter/main.js')],
    {
      ...cleanEnvironment(),
      HOST: '127.0.0.1',
      PORT: '0',
      ENGINE_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    repoRoot,
  );
}

/** Waits for a launched adapter to open its ingress with the engine ready. */
export async function adapterWhenOpen(
  child: JsonLinesChild,
  env: Record<string, string>,
  startTimeoutMs = 60_000,
): Promise<AdapterService> {
  const { line } = await child.waitForMessage('ingress open', startTimeoutMs);
  if (line.engineState !== 'ready') {
    throw new Error(`the adapter opened with the engine ${String(line.engineState)}`);
  }
  let engineUrl = env.ENGINE_URL;
  if (engineUrl === undefined) {
    const launched = await child.waitForMessage('engine launched', 1_000);
    engineUrl = `http://${String(launched.line.bindAddress)}`;
  }
  return {
    process: child,
    url: `http://127.0.0.1:${String(line.port)}`,
    engineUrl,
    stop: () => child.stop(10_000),
  };
}

export async function startAdapter(
  repoRoot: string,
  env: Record<string, string>,
  startTimeoutMs = 60_000,
): Promise<AdapterService> {
  const child = launchAdapter(repoRoot, env);
  try {
    return await adapterWhenOpen(child, env, startTimeoutMs);
  } catch (error) {
    await child.stop();
    throw error;
  }
}
