import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { exchange } from './httpClient';
import {
  cleanEnvironment,
  LoggedProcess,
  REPO_ROOT,
  type ExitStatus,
  type LogLine,
} from './loggedProcess';
import { waitFor } from './waitFor';

/** The repository root: the adapter runs from here, as the start script runs it. */
export { REPO_ROOT };
export type { ExitStatus, LogLine };
export const ADAPTER_MAIN = path.join(REPO_ROOT, 'dist/adapter/main.js');
/** Stand-in engines for fault injection (see each file's header). */
export const ENGINES_DIR = path.join(REPO_ROOT, 'test/support/engines');

/** A command line for ENGINE_COMMAND that runs one of the stand-in engines. */
export function engineCommand(script: string): string {
  return commandLine(process.execPath, path.join(ENGINES_DIR, script));
}

/** ENGINE_COMMAND is split on spaces; a space inside a part is escaped with a backslash. */
export function commandLine(...parts: string[]): string {
  return parts.map((part) => part.replace(/ /g, '\\ ')).join(' ');
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * The built adapter (dist/adapter/main.js) as a real process: its JSON log lines, its exit,
 * and HTTP to the port it reports in its "ingress open" line.
 */
export class AdapterProcess extends LoggedProcess {
  /** A fresh folder for this adapter: files, gate files, anything a test needs. */
  readonly tempDir: string;

  constructor(env: AdapterEnv) {
    const tempDir = mkdtempSync(path.join(os.tmpdir(), 'psa-supervisor-'));
    const extra = typeof env === 'function' ? env(tempDir) : env;
    super(
      ADAPTER_MAIN,
      {
        ...baseEnvironment(),
        HOST: '127.0.0.1',
        PORT: '0',
        ENGINE_PORT: '0',
        LOG_LEVEL: 'info',
        FILES_DIR: path.join(tempDir, 'files'),
        // The stand-in engines run no Python: send the code exactly as written.
        PYTHON_RESULT: 'false',
        ...extra,
      },
      { name: 'adapter', tailLines: 40, waitTimeoutMs: 10_000 },
    );
    this.tempDir = tempDir;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the adapter did not start');
    return this.child.pid;
  }

  waitForMessage(msg: string, options: { timeoutMs?: number } = {}): Promise<LogLine> {
    return this.waitForLog((line) => line.msg === msg, { ...options, what: `"${msg}"` });
  }

  /** The port from the "ingress open" line. */
  async ingressPort(timeoutMs = 10_000): Promise<number> {
    const line = await this.waitForMessage('ingress open', { timeoutMs });
    return line.port as number;
  }

  /** Pids of every engine process the supervisor launched, in order. */
  enginePids(): number[] {
    return this.logs
      .filter((line) => line.msg === 'engine launched')
      .map((line) => line.enginePid as number);
  }

  async waitForExit(timeoutMs = 10_000): Promise<ExitStatus> {
    await waitFor(() => this.hasExited, { timeoutMs, what: `adapter exit\n${this.describe()}` });
    return this.exitStatus as ExitStatus;
  }

  async request(
    method: string,
    urlPath: string,
    body?: unknown,
    { timeoutMs = 10_000 } = {},
  ): Promise<HttpReply> {
    const port = await this.ingressPort();
    return httpRequest(port, method, urlPath, body, timeoutMs);
  }

  /** POST /python/execute with `code`, in the legacy dialect tests use throughout. */
  execute(code: string, options: { timeoutMs?: number } = {}): Promise<HttpReply> {
    return this.request('POST', '/python/execute', { properties: { code } }, options);
  }

  /**
   * Leaves nothing behind: SIGKILL the adapter if it still runs, and every engine group it
   * launched (an adapter killed this way cannot stop them itself), then remove the temp dir.
   */
  async cleanup(): Promise<void> {
    if (!this.hasExited) this.child.kill('SIGKILL');
    for (const pid of this.enginePids()) signalGroup(pid, 'SIGKILL');
    await this.waitForExit();
    rmSync(this.tempDir, { recursive: true, force: true });
  }
}

/** The tests' environment without settings that would change the adapter under test. */
function baseEnvironment(): NodeJS.ProcessEnv {
  return cleanEnvironment(/^(ENGINE_|PISTON_|FAKE_ENGINE_)/);
}

/** Variables for the adapter, or a function of its temp dir that returns them. */
export type AdapterEnv =
  Record<string, string | undefined> | ((tempDir: string) => Record<string, string | undefined>);

export function startAdapter(env: AdapterEnv): AdapterProcess {
  if (!existsSync(ADAPTER_MAIN)) {
    throw new Error(`${ADAPTER_MAIN} is missing: run \`npm run build\` first (npm test does)`);
  }
  return new AdapterProcess(env);
}

export function httpRequest(
  port: number,
  method: string,
  urlPath: string,
  body: unknown,
  timeoutMs: number,
): Promise<HttpReply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return exchange(
    {
      port,
      method,
      path: urlPath,
      headers: payload
        ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
        : {},
      timeoutMs,
    },
    (req) => req.end(payload),
  );
}

/** Resolves with the connection error code (e.g. ECONNREFUSED), or null if it connected. */
export function connectionError(port: number, host = '127.0.0.1'): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.request({
      host,
      port,
      path: '/health',
      agent: false,
      timeout: 2_000,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(null);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

/**
 * Whether a process still runs. A zombie (dead, not yet reaped by its parent) counts as gone:
 * it holds no resources and runs no code.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so read after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function waitUntilGone(pid: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => !isAlive(pid), { timeoutMs, what: `process ${pid} to be gone` });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
