import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './waitFor';

/** The repository root: the adapter runs from here, as the start script runs it. */
export const REPO_ROOT = path.resolve(__dirname, '../..');
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

export interface LogLine {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The built adapter (dist/adapter/main.js) as a real process: its JSON log lines, its exit,
 * and HTTP to the port it reports in its "ingress open" line.
 */
export class AdapterProcess {
  readonly child: ChildProcess;
  /** A fresh folder for this adapter: files, gate files, anything a test needs. */
  readonly tempDir: string;
  readonly logs: LogLine[] = [];
  /** Whatever it wrote on stderr (a ConfigError, a crash). */
  stderr = '';
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | null = null;
  private stdoutRest = '';

  constructor(env: AdapterEnv) {
    this.tempDir = mkdtempSync(path.join(os.tmpdir(), 'psa-supervisor-'));
    const extra = typeof env === 'function' ? env(this.tempDir) : env;
    this.child = spawn(process.execPath, [ADAPTER_MAIN], {
      cwd: REPO_ROOT,
      env: {
        ...baseEnvironment(),
        HOST: '127.0.0.1',
        PORT: '0',
        ENGINE_PORT: '0',
        LOG_LEVEL: 'info',
        FILES_DIR: path.join(this.tempDir, 'files'),
        // The stand-in engines run no Python: send the code exactly as written.
        PYTHON_RESULT: 'false',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the adapter did not start');
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitStatus !== null;
  }

  /** The first log line matching, waiting up to `timeoutMs` for it. */
  async waitForLog(
    predicate: (line: LogLine) => boolean,
    { timeoutMs = 10_000, what = 'a log line' } = {},
  ): Promise<LogLine> {
    let found: LogLine | undefined;
    await waitFor(
      () => {
        found = this.logs.find(predicate);
        // Stop waiting early if the adapter is gone; the assertion below says so.
        return found !== undefined || this.hasExited;
      },
      { timeoutMs, what: `${what}\n${this.describe()}` },
    );
    if (found === undefined) throw new Error(`adapter exited before ${what}\n${this.describe()}`);
    return found;
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

  /** The log so far, for failure messages. */
  describe(): string {
    const tail = this.logs
      .slice(-40)
      .map((line) => JSON.stringify(line))
      .join('\n');
    return `--- adapter log (last 40 lines) ---\n${tail}\n--- stderr ---\n${this.stderr}`;
  }

  private onStdout(chunk: string): void {
    const text = this.stdoutRest + chunk;
    const lines = text.split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ msg: '(not JSON)', text: line });
      }
    }
  }
}

/** The tests' environment without settings that would change the adapter under test. */
function baseEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(ENGINE_|PISTON_|FAKE_ENGINE_)/.test(name)) delete env[name];
  }
  delete env.NODE_OPTIONS;
  return env;
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
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        // A fresh connection per request: no pooled socket outlives a test.
        agent: false,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${urlPath}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
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
