/**
 * One session as a real process: the built adapter (dist/adapter/main.js) on an ephemeral
 * loopback port, supervising its own engine, with its own files folder. It counts as started
 * once its port is open and its engine ready, as Azure hands out a session only after its
 * startup probe passes (the adapter's /health answers 503 until the engine is ready). An engine
 * that exits while starting (a port taken in between, say) opens the adapter degraded while
 * it relaunches the engine: the session may still become ready, and is failed only after
 * MAX_ENGINE_EXITS exits, the adapter's own exit, or the start timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../../adapter/logging/logger';
import { SESSION_ID_PLACEHOLDER, SESSION_PORT_PLACEHOLDER } from './config';
import { SessionStartError, type SessionHandle, type SessionLauncher } from './sessionPool';

export interface SessionProcessOptions {
  /** Where dist/ lives. */
  repoRoot: string;
  /** The sessions' environment: the adapter's own variables (see `sessionEnvironment`). */
  env: NodeJS.ProcessEnv;
  /** Each session gets a fresh folder under this one; it goes when the session stops. */
  sessionsDir: string;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  logger: Logger;
  /**
   * POOL_SESSION_COMMAND, already split into words: run it instead of the built adapter (see
   * `sessionCommandLine`). Its engines live where it runs them (a container's own pid
   * namespace, say), so the pool neither reports nor kills engine pids for such sessions.
   */
  command?: string[];
}

/** Engine exits while starting that make a start fail: one can be chance, three are not. */
const MAX_ENGINE_EXITS = 3;
/** Log lines kept per session, to say why it failed. */
const KEPT_LINES = 30;
/** After the adapter exits, how long its last output may take to arrive. */
const OUTPUT_DRAIN_MS = 1_000;

export function adapterMain(repoRoot: string): string {
  return path.join(repoRoot, 'dist/adapter/main.js');
}

/**
 * What every session's adapter gets: the pool's environment minus the pool's own settings
 * (POOL_TOKEN must not reach code running in a session), on loopback ports picked at start,
 * launching its own engine: ENGINE_COMMAND when given, else the local engine, built the way
 * scripts/start.sh builds it. ENGINE_URL is dropped: in a pool every session has its own.
 * LOG_LEVEL is at least info: the pool learns a session's port and engines from its log.
 */
export function sessionEnvironment(
  env: NodeJS.ProcessEnv,
  repoRoot: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || name.startsWith('POOL_') || name === 'ENGINE_URL') continue;
    out[name] = value;
  }
  // The adapter splits ENGINE_COMMAND on spaces; a space inside a path is escaped.
  const arg = (part: string) => part.replace(/ /g, '\\ ');
  const localEngine = path.join(repoRoot, 'dist/scripts/local-engine/main.js');
  // The pool reads "engine launched" and "ingress open" from the adapter's info lines.
  const logLevel = ['debug', 'trace'].includes(env.LOG_LEVEL ?? '')
    ? (env.LOG_LEVEL as string)
    : 'info';
  return {
    ...out,
    LOG_LEVEL: logLevel,
    ENGINE_COMMAND: env.ENGINE_COMMAND || `${arg(process.execPath)} ${arg(localEngine)}`,
    HOST: '127.0.0.1',
    PORT: '0',
    ENGINE_PORT: '0',
  };
}

/**
 * The words of POOL_SESSION_COMMAND for one session: `{port}` becomes its loopback port and
 * `{id}` its name, wherever they appear in a word.
 */
export function sessionCommandLine(
  words: string[],
  fill: { port: number; sessionId: string },
): string[] {
  return words.map((word) =>
    word
      .replaceAll(SESSION_PORT_PLACEHOLDER, String(fill.port))
      .replaceAll(SESSION_ID_PLACEHOLDER, fill.sessionId),
  );
}

/** A loopback port free now, for a session command to listen on. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

export interface SessionProcesses {
  launch: SessionLauncher;
  /**
   * SIGKILL every session still running and its engines, synchronously: for the pool's exit
   * handler, so no session outlives the pool even when it crashes.
   */
  killAll(): void;
}

export function sessionProcesses(options: SessionProcessOptions): SessionProcesses {
  const running = new Set<AdapterSession>();
  const launch: SessionLauncher = async ({ sessionId, signal }) => {
    // The port is picked, then freed for the command to take: another process could take it
    // in between, which fails that start with the command's own message.
    const port = options.command === undefined ? null : await freeLoopbackPort();
    const session = new AdapterSession(sessionId, options, port);
    running.add(session);
    void session.exited.then(() => running.delete(session));
    try {
      await session.started(signal);
      return session;
    } catch (error) {
      // Whatever went wrong, nothing of it stays: processes, ports, files.
      await session.stop();
      if (error instanceof SessionStartError) {
        error.adapterPid = session.pid;
        error.enginePids = session.enginePids();
      }
      throw error;
    }
  };
  return { launch, killAll: () => running.forEach((session) => session.killNow()) };
}

interface LogLine {
  msg?: unknown;
  level?: unknown;
  [field: string]: unknown;
}

class AdapterSession implements SessionHandle {
  readonly exited: Promise<string>;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly engines = new Set<number>();
  private readonly lines: string[] = [];
  private readonly stderrLines: string[] = [];
  private stdoutRest = '';
  /** The port, once "ingress open" said it. */
  private ingressPort: number | null = null;
  private engineReady = false;
  private engineExits = 0;
  /** Why the engine is not ready, as the adapter last said. */
  private engineReason: string | null = null;
  private isUp = false;
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: Error | null = null;
  /** The process is gone and its output read. */
  private ended = false;
  private stopping: Promise<void> | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    sessionId: string,
    private readonly options: SessionProcessOptions,
    /** The port a session command was told to listen on; null for the built adapter. */
    private readonly commandPort: number | null,
  ) {
    this.logger = options.logger.child({ sessionId });
    this.dir = mkdtempSync(path.join(options.sessionsDir, `${sessionId}-`));
    // Enterable, not listable, by others: an engine running jobs as other uids (pre-isolate
    // Piston as ENGINE_COMMAND) must reach the session's files folder inside.
    chmodSync(this.dir, 0o711);
    const env = { ...options.env, FILES_DIR: path.join(this.dir, 'files') };
    const [file, ...args] =
      options.command !== undefined && commandPort !== null
        ? sessionCommandLine(options.command, { port: commandPort, sessionId })
        : [process.execPath, adapterMain(options.repoRoot)];
    this.child = spawn(file as string, args, {
      cwd: options.repoRoot,
      env: commandPort === null ? env : { ...env, PORT: String(commandPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim() !== '') keep(this.stderrLines, line);
    });
    this.exited = new Promise((resolve) => {
      let drain: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(drain);
        this.ended = true;
        resolve(this.describeExit());
        this.notify();
      };
      this.child.once('error', (error) => {
        // Spawning failed: there is no process to wait for.
        this.spawnError = error;
        if (this.child.pid === undefined) done();
      });
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        // Its last lines may still be in the pipe; 'close' says they arrived.
        drain = setTimeout(done, OUTPUT_DRAIN_MS);
      });
      this.child.once('close', done);
    });
  }

  get port(): number {
    return this.ingressPort ?? 0;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  enginePids(): number[] {
    return [...this.engines];
  }

  /** Resolves once the adapter listens with a ready engine; rejects saying why not. */
  async started(signal: AbortSignal): Promise<void> {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => this.notify();
    signal.addEventListener('abort', onAbort);
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          try {
            if (this.isStarted(signal, timedOut)) {
              this.waiters.delete(check);
              resolve();
            }
          } catch (error) {
            this.waiters.delete(check);
            reject(error);
          }
        };
        this.waiters.add(check);
        timer = setTimeout(() => {
          timedOut = true;
          check();
        }, this.options.startTimeoutMs);
        check();
      });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops it and removes its folder; idempotent, and bounded by the stop timeout. */
  stop(): Promise<void> {
    this.stopping ??= this.stopProcesses().finally(() =>
      rmSync(this.dir, { recursive: true, force: true }),
    );
    return this.stopping;
  }

  killNow(): void {
    if (this.ended) return;
    this.child.kill('SIGKILL');
    for (const pid of this.engines) killGroup(pid);
  }

  private async stopProcesses(): Promise<void> {
    if (this.exitStatus === null && this.child.pid !== undefined && this.spawnError === null) {
      // The adapter drains its requests, stops its engine (and the engine its jobs), exits 0.
      this.child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => {
        setTimeout(resolve, this.options.stopTimeoutMs, 'timeout').unref();
      });
      if ((await Promise.race([this.exited, timer])) === 'timeout') {
        this.logger.warn(
          { adapterPid: this.pid, stopTimeoutMs: this.options.stopTimeoutMs },
          'session did not stop in time; killing it',
        );
        this.child.kill('SIGKILL');
      }
    }
    await this.exited;
    const status = this.exitStatus;
    // An adapter that exited cleanly has stopped its engine itself. Any other end (a crash,
    // SIGKILL) may leave the engine's process group behind, which nobody else would reap.
    if (status === null || status.code !== 0 || status.signal !== null) {
      for (const pid of this.engines) killGroup(pid);
    }
  }

  private isStarted(signal: AbortSignal, timedOut: boolean): boolean {
    if (this.ingressPort !== null && this.engineReady) {
      this.isUp = true;
      return true;
    }
    if (this.engineExits >= MAX_ENGINE_EXITS) {
      throw new SessionStartError(
        `its engine exited ${this.engineExits} times while starting; the last time: ${this.whyNotReady()}`,
      );
    }
    if (signal.aborted) throw new SessionStartError('it was stopped while starting');
    if (this.ended) {
      throw new SessionStartError(`its adapter ${this.describeExit()} before opening its port`);
    }
    if (timedOut) {
      const ms = this.options.startTimeoutMs;
      throw new SessionStartError(
        this.ingressPort === null
          ? `its adapter did not open its port within ${ms} ms${this.lastWords()}`
          : `its engine was not ready within ${ms} ms: ${this.whyNotReady()}`,
      );
    }
    return false;
  }

  private whyNotReady(): string {
    // The adapter's reason ends with its restart plan, which the pool is about to overrule.
    return (this.engineReason ?? 'no reason logged').replace(/; restart \d+ in \d+ ms$/, '');
  }

  private describeExit(): string {
    if (this.spawnError !== null) return `could not be started (${this.spawnError.message})`;
    const status = this.exitStatus;
    const how =
      status === null
        ? 'ended'
        : status.signal !== null
          ? `was killed by ${status.signal}`
          : `exited with code ${status.code}`;
    return `${how}${this.lastWords()}`;
  }

  /** What the adapter last said that explains an end: errors logged, then stderr. */
  private lastWords(): string {
    const errors = this.lines
      .map((line) => parse(line))
      .filter((line): line is LogLine => typeof line?.level === 'number' && line.level >= 50)
      .map((line) => [line.msg, line.reason].filter((part) => typeof part === 'string').join(': '));
    const said = [...errors, ...this.stderrLines].slice(-8);
    return said.length === 0 ? '' : `; it said:\n${said.join('\n')}`;
  }

  private onStdout(chunk: string): void {
    const text = this.stdoutRest + chunk;
    const lines = text.split('\n');
    this.stdoutRest = lines.pop() ?? '';
    const tracing = this.logger.isLevelEnabled('trace');
    for (const raw of lines) {
      if (raw.trim() === '') continue;
      keep(this.lines, raw);
      // Once up, a session logs a line per request: read only the lines that matter.
      if (!tracing && this.isUp && !raw.includes('"engine launched"')) continue;
      const line = parse(raw);
      if (line === null) continue;
      if (tracing) this.logger.trace({ session: line }, 'session log');
      this.onLine(line);
    }
  }

  private onLine(line: LogLine): void {
    const reason = typeof line.reason === 'string' ? line.reason : null;
    switch (line.msg) {
      case 'engine launched':
        // A command's engines are not this host's pids to kill (a container's, say).
        if (typeof line.enginePid === 'number' && this.commandPort === null) {
          this.engines.add(line.enginePid);
        }
        return;
      case 'engine exited':
        this.engineExits += 1;
        break;
      case 'engine not ready; opening ingress in degraded mode':
        this.engineReason = reason ?? this.engineReason;
        break;
      case 'engine state':
        this.engineReady = line.state === 'ready';
        if (!this.engineReady) this.engineReason = reason ?? this.engineReason;
        break;
      case 'ingress open':
        if (typeof line.port !== 'number') return;
        // Inside a container the adapter reports its own port (2000); callers use the one
        // the command published.
        this.ingressPort = this.commandPort ?? line.port;
        this.engineReady = line.engineState === 'ready';
        break;
      default:
        return;
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function parse(line: string): LogLine | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as LogLine) : null;
  } catch {
    return null;
  }
}

function keep(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > KEPT_LINES) lines.shift();
}

/** Kills a process group the adapter started (engines run detached, each its own group). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
