import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, type ExitStatus } from './adapterProcess';
import { waitFor } from './waitFor';

/** The built engine, exactly what the start script and the supervisor launch. */
export const LOCAL_ENGINE_MAIN = path.join(REPO_ROOT, 'dist/scripts/local-engine/main.js');

/**
 * How long a process may take to start, answer or exit before a test gives up on it. Generous:
 * on a loaded CI machine starting Node and probing five tools can take seconds. A deadline for
 * a condition, never a wait.
 */
export const PROCESS_DEADLINE_MS = 25_000;

export interface EngineLogLine {
  level?: number;
  msg?: string;
  /** Which stream the line came on: the engine writes errors to stderr, the rest to stdout. */
  stream: 'stdout' | 'stderr';
  [field: string]: unknown;
}

export interface EngineReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface EngineRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as is, with a content-length; undefined sends no body at all. */
  body?: string;
  /** Send the body chunked, without a content-length. */
  chunked?: boolean;
  /** Where to connect; 127.0.0.1 unless told. */
  host?: string;
  timeoutMs?: number;
}

/**
 * The built local engine as a real process, on a port of its choosing (PISTON_BIND_ADDRESS
 * with port 0) read from its "listening" line, with a temp dir of its own as TMPDIR so that
 * whatever it creates can be checked and removed.
 */
export class LocalEngine {
  readonly child: ChildProcess;
  /** The engine's TMPDIR: it creates its own root dir (jobs, stage scripts) in here. */
  readonly tempDir: string;
  readonly logs: EngineLogLine[] = [];
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | null = null;
  private readonly rest = { stdout: '', stderr: '' };

  constructor(env: Record<string, string | undefined> = {}) {
    if (!existsSync(LOCAL_ENGINE_MAIN)) {
      throw new Error(
        `${LOCAL_ENGINE_MAIN} is missing: run \`npm run build\` first (npm test does)`,
      );
    }
    this.tempDir = mkdtempSync(path.join(os.tmpdir(), 'psa-local-engine-'));
    this.child = spawn(process.execPath, [LOCAL_ENGINE_MAIN], {
      cwd: REPO_ROOT,
      env: {
        ...engineBaseEnvironment(),
        TMPDIR: this.tempDir,
        PISTON_BIND_ADDRESS: '127.0.0.1:0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]?.setEncoding('utf8');
      this.child[stream]?.on('data', (chunk: string) => this.onData(stream, chunk));
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the engine did not start');
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitStatus !== null;
  }

  /** The first log line matching, waiting up to `timeoutMs`; throws if the engine exits first. */
  async waitForLog(
    predicate: (line: EngineLogLine) => boolean,
    { timeoutMs = PROCESS_DEADLINE_MS, what = 'a log line' } = {},
  ): Promise<EngineLogLine> {
    let found: EngineLogLine | undefined;
    await waitFor(
      () => {
        found = this.logs.find(predicate);
        return found !== undefined || this.hasExited;
      },
      { timeoutMs, what: `${what}\n${this.describe()}` },
    );
    // Lines written just before the exit may be parsed after it: look once more.
    found ??= this.logs.find(predicate);
    if (found === undefined) throw new Error(`engine exited before ${what}\n${this.describe()}`);
    return found;
  }

  /** The "listening" line: where it answers, its dialect, runtimes and jobs dir. */
  listening(timeoutMs = PROCESS_DEADLINE_MS): Promise<EngineLogLine> {
    return this.waitForLog((line) => line.msg === 'listening', { timeoutMs, what: '"listening"' });
  }

  async port(): Promise<number> {
    return (await this.listening()).port as number;
  }

  /** Where jobs run; its parent is the engine's root dir, which it removes when it stops. */
  async jobsDir(): Promise<string> {
    return (await this.listening()).jobsDir as string;
  }

  async request(request: EngineRequest): Promise<EngineReply> {
    return engineRequest(await this.port(), request);
  }

  /** POST /api/v2/execute with a JSON body. */
  execute(body: unknown, timeoutMs?: number): Promise<EngineReply> {
    return this.request({
      method: 'POST',
      path: '/api/v2/execute',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs,
    });
  }

  async waitForExit(timeoutMs = PROCESS_DEADLINE_MS): Promise<ExitStatus> {
    await waitFor(() => this.hasExited, { timeoutMs, what: `engine exit\n${this.describe()}` });
    return this.exitStatus as ExitStatus;
  }

  /** SIGTERM (SIGKILL if it is still there after the wait), then remove the temp dir. */
  async stop(): Promise<void> {
    if (!this.hasExited) this.child.kill('SIGTERM');
    try {
      await this.waitForExit();
    } finally {
      if (!this.hasExited) this.child.kill('SIGKILL');
      rmSync(this.tempDir, { recursive: true, force: true });
    }
  }

  describe(): string {
    const tail = this.logs
      .slice(-30)
      .map((line) => JSON.stringify(line))
      .join('\n');
    return `--- engine log (last 30 lines) ---\n${tail}`;
  }

  private onData(stream: 'stdout' | 'stderr', chunk: string): void {
    const lines = (this.rest[stream] + chunk).split('\n');
    this.rest[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        this.logs.push({ ...(JSON.parse(line) as Record<string, unknown>), stream });
      } catch {
        this.logs.push({ msg: '(not JSON)', text: line, stream });
      }
    }
  }
}

/** The tests' environment without settings that would change the engine under test. */
function engineBaseEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(ENGINE_|PISTON_|LOCAL_ENGINE_|FAKE_ENGINE_)/.test(name)) delete env[name];
  }
  delete env.NODE_OPTIONS;
  return env;
}

/** One request on a fresh connection, the body sent byte for byte as given. */
export function engineRequest(port: number, request: EngineRequest): Promise<EngineReply> {
  const {
    method,
    path: urlPath,
    body,
    host = '127.0.0.1',
    timeoutMs = PROCESS_DEADLINE_MS,
  } = request;
  const headers: Record<string, string | number> = { ...request.headers };
  if (body !== undefined && !request.chunked) headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path: urlPath, headers, agent: false, timeout: timeoutMs },
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
    if (request.chunked && body !== undefined) {
      // Two writes: node sends each as a chunk of its own.
      const half = Math.floor(body.length / 2);
      req.write(body.slice(0, half));
      req.end(body.slice(half));
    } else {
      req.end(body);
    }
  });
}
