/**
 * The image build's runtime step (docker/Dockerfile RUNs it inside the Piston base, with the
 * adapter's Node): checks the base is the Piston generation asked for, starts Piston's API on
 * loopback with Piston's own Node, installs PISTON_PACKAGES through it, runs a hello world in
 * every installed language, and stops Piston. Exits 1 with the reason on any failure.
 *
 * Installing needs no privileges in either generation (download, checksum, unpack, source an
 * `environment` file); running the hello worlds does in current Piston (isolate), so there the
 * check is skipped and says so.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseSpecs } from './packageIndex';
import { baseProblem, detectGeneration } from './pistonBase';
import { InstallError, installRuntimes, type HttpCall } from './runtimeInstaller';

/** Piston's own default (api/src/config.js, repo_url). */
const PISTON_DEFAULT_INDEX = 'https://github.com/engineer-man/piston/releases/download/pkgs/index';
const ENGINE_ADDRESS = '127.0.0.1:2001';
const START_DEADLINE_MS = 120_000;
const LOG_FILE = '/tmp/piston-build.log';

const schema = z.object({
  PISTON_PACKAGES: z.string().default(''),
  PISTON_REPO_URL: z.url().optional(),
  PISTON_GENERATION: z.enum(['pre-isolate', 'isolate']).default('pre-isolate'),
  PISTON_IMAGE: z.string().default('(the base image)'),
  PISTON_ROOT: z.string().default('/piston_api'),
  PISTON_NODE: z.string().default('/usr/local/bin/node'),
  INSTALL_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
});

const say = (line: string) => process.stdout.write(`install-runtimes: ${line}\n`);

const http: HttpCall = async ({ method, url, body, timeoutMs }) => {
  const response = await fetch(url, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  return { status: response.status, text: await response.text() };
};

async function main(): Promise<void> {
  const present = Object.fromEntries(
    Object.entries(process.env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = schema.parse(present);
  const problem = baseProblem(
    detectGeneration(env.PISTON_ROOT),
    env.PISTON_GENERATION,
    env.PISTON_IMAGE,
    env.PISTON_ROOT,
  );
  if (problem !== null) throw new InstallError(problem);
  const specs = parseSpecs(env.PISTON_PACKAGES);
  const indexUrl = env.PISTON_REPO_URL ?? PISTON_DEFAULT_INDEX;

  const log = openSync(LOG_FILE, 'w');
  const piston = spawn(env.PISTON_NODE, [path.join(env.PISTON_ROOT, 'src')], {
    cwd: env.PISTON_ROOT,
    env: {
      ...process.env,
      PISTON_BIND_ADDRESS: ENGINE_ADDRESS,
      ...(env.PISTON_REPO_URL !== undefined && { PISTON_REPO_URL: env.PISTON_REPO_URL }),
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited: string | null = null;
  const gone = new Promise<void>((resolve) => {
    piston.once('error', (error) => {
      exited = `could not be started: ${error.message}`;
      resolve();
    });
    piston.once('exit', (code, signal) => {
      exited = `exited (code ${code}, signal ${signal})`;
      resolve();
    });
  });
  try {
    await waitForApi(() => exited);
    say(`Piston (${env.PISTON_GENERATION}) answers on ${ENGINE_ADDRESS}; index ${indexUrl}`);
    await installRuntimes({
      specs,
      indexUrl,
      engineUrl: `http://${ENGINE_ADDRESS}`,
      http,
      retry: { attempts: env.INSTALL_ATTEMPTS, delaysMs: [2_000, 5_000, 10_000] },
      checkRuns: env.PISTON_GENERATION === 'pre-isolate',
      log: say,
    });
  } catch (error) {
    process.stderr.write(`--- Piston's log (${LOG_FILE}) ---\n${readLog()}--- end ---\n`);
    throw error;
  } finally {
    piston.kill('SIGTERM');
    await gone;
  }
}

async function waitForApi(exited: () => string | null): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    const end = exited();
    if (end !== null) throw new InstallError(`Piston ${end} while starting`);
    try {
      const answer = await http({
        method: 'GET',
        url: `http://${ENGINE_ADDRESS}/api/v2/runtimes`,
        timeoutMs: 2_000,
      });
      if (answer.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new InstallError(`Piston did not answer within ${START_DEADLINE_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function readLog(): string {
  try {
    return readFileSync(LOG_FILE, 'utf8');
  } catch {
    return '(none)\n';
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof InstallError || error instanceof z.ZodError
      ? error.message
      : String((error as Error).stack ?? error);
  process.stderr.write(`install-runtimes: error: ${message}\n`);
  process.exit(1);
});
