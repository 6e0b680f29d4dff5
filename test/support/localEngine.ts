import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, type ExitStatus } from './adapterProcess';
import { exchange } from './httpClient';
import { cleanEnvironment, LoggedProcess, type OutputStream } from './loggedProcess';
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
export class LocalEngine extends LoggedProcess<EngineLogLine> {
  /** The engine's TMPDIR: it creates its own root dir (jobs, stage scripts) in here. */
  readonly tempDir: string;

  constructor(env: Record<string, string | undefined> = {}) {
    if (!existsSync(LOCAL_ENGINE_MAIN)) {
      throw new Error(
        `${LOCAL_ENGINE_MAIN} is missing: run \`npm run build\` first (npm test does)`,
      );
    }
    const tempDir = mkdtempSync(path.join(os.tmpdir(), 'psa-local-engine-'));
    super(
      LOCAL_ENGINE_MAIN,
      {
        ...engineBaseEnvironment(),
        TMPDIR: tempDir,
        PISTON_BIND_ADDRESS: '127.0.0.1:0',
        ...env,
      },
      // The engine writes its errors to stderr as log lines too.
      { name: 'engine', tailLines: 30, waitTimeoutMs: PROCESS_DEADLINE_MS, stderrIsLog: true },
    );
    this.tempDir = tempDir;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the engine did not start');
    return this.child.pid;
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

  protected override toLogLine(
    fields: Record<string, unknown>,
    stream: OutputStream,
  ): EngineLogLine {
    return { ...fields, stream };
  }
}

/** The tests' environment without settings that would change the engine under test. */
function engineBaseEnvironment(): NodeJS.ProcessEnv {
  return cleanEnvironment(/^(ENGINE_|PISTON_|LOCAL_ENGINE_|FAKE_ENGINE_)/);
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
  return exchange({ host, port, method, path: urlPath, headers, timeoutMs }, (req) => {
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

/** What a client that left saw: the status, if an answer came before it left; else null. */
export interface Departure {
  status: number | null;
}

/**
 * Sends a request and leaves (destroys its connection) `leaveAfterMs` after sending it, as the
 * recording's client did (`_meta.client_closed_after_ms`); the recorded behaviour is a client
 * that leaves at that time, so the timer is the fact under test, not a wait.
 */
export function requestThenLeave(
  port: number,
  request: EngineRequest,
  leaveAfterMs: number,
): Promise<Departure> {
  const { method, path: urlPath, body, host = '127.0.0.1' } = request;
  const headers: Record<string, string | number> = { ...request.headers };
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const req = http.request(
      { host, port, method, path: urlPath, agent: false, headers },
      (res) => {
        clearTimeout(timer);
        res.resume();
        resolve({ status: res.statusCode ?? null });
      },
    );
    req.on('error', (error) => {
      // The destroy below ends the request with an error of our own making: that is leaving.
      if (req.destroyed && timer !== undefined) resolve({ status: null });
      else reject(error);
    });
    req.end(body, () => {
      timer = setTimeout(() => {
        req.destroy();
        resolve({ status: null });
      }, leaveAfterMs);
    });
  });
}
