import { existsSync } from 'node:fs';
import path from 'node:path';
import { isAlive, REPO_ROOT, type ExitStatus, type HttpReply } from './adapterProcess';
import { send, type SendOptions } from './httpClient';
import { cleanEnvironment, LoggedProcess, type LogLine, type OutputStream } from './loggedProcess';
import { waitFor } from './waitFor';

export const POOL_MAIN = path.join(REPO_ROOT, 'dist/scripts/pool/main.js');

export interface PoolStatusJson {
  allocated: number;
  ready: number;
  warming: number;
  stopping: number;
  counters: Record<string, number>;
  sessions: Array<{
    sessionId: string;
    identifier: string | null;
    state: string;
    adapterPid: number | null;
    enginePids: number[];
  }>;
}

/**
 * The built emulator (dist/scripts/pool/main.js) as a real process, with real adapter sessions:
 * its JSON log, HTTP to the port it reports, and every session pid it ever mentioned, so a test
 * can check that nothing outlives it.
 */
export class PoolProcess extends LoggedProcess {
  private readonly pids = new Set<number>();

  constructor(env: Record<string, string>) {
    if (!existsSync(POOL_MAIN)) {
      throw new Error(`${POOL_MAIN} is missing: run \`npm run build\` first (npm test does)`);
    }
    super(
      POOL_MAIN,
      {
        ...baseEnvironment(),
        POOL_PORT: '0',
        POOL_LOG_LEVEL: 'info',
        // The stand-in engines and this test need no Python result evaluation.
        PYTHON_RESULT: 'false',
        ...env,
      },
      { name: 'pool', tailLines: 30, waitTimeoutMs: 20_000 },
    );
  }

  async port(): Promise<number> {
    const line = await this.waitForLog((l) => l.msg === 'pool listening', {
      what: '"pool listening"',
    });
    return line.port as number;
  }

  async request(method: string, urlPath: string, options?: SendOptions): Promise<HttpReply> {
    return send(await this.port(), method, urlPath, { timeoutMs: 20_000, ...options });
  }

  async status(): Promise<PoolStatusJson> {
    const reply = await this.request('GET', '/.pool/status');
    const status = reply.json as PoolStatusJson;
    this.notePids(status);
    return status;
  }

  async waitForStatus(
    predicate: (status: PoolStatusJson) => boolean,
    { timeoutMs = 20_000, what = 'a pool status' } = {},
  ): Promise<PoolStatusJson> {
    let last: PoolStatusJson | undefined;
    await waitFor(
      async () => {
        last = await this.status();
        return predicate(last);
      },
      { timeoutMs, intervalMs: 50, what: `${what}\n${this.describe()}` },
    );
    return last as PoolStatusJson;
  }

  /** The adapter pid serving `identifier` now, from the status. */
  async adapterPidOf(identifier: string): Promise<number | null> {
    const status = await this.status();
    return status.sessions.find((s) => s.identifier === identifier)?.adapterPid ?? null;
  }

  /** Every adapter and engine pid the pool ever reported. */
  sessionPids(): number[] {
    return [...this.pids];
  }

  /** SIGTERM, as `kill` or a container stop sends it; resolves with how it exited. */
  async stop(timeoutMs = 30_000): Promise<ExitStatus> {
    if (!this.hasExited) this.child.kill('SIGTERM');
    await waitFor(() => this.hasExited, { timeoutMs, what: `pool exit\n${this.describe()}` });
    return this.exitStatus as ExitStatus;
  }

  /** Processes the pool started that still run (should be none once it has exited). */
  survivors(): number[] {
    return this.sessionPids().filter((pid) => isAlive(pid));
  }

  /**
   * Leaves nothing behind whatever the test did: stops the pool, and SIGKILLs anything it
   * started that survived (the test asserts there was nothing first).
   */
  async cleanup(): Promise<void> {
    if (!this.hasExited) {
      this.child.kill('SIGTERM');
      await waitFor(() => this.hasExited, { timeoutMs: 30_000, what: 'pool exit' }).catch(() => {
        this.child.kill('SIGKILL');
      });
    }
    for (const pid of this.survivors()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }

  private notePids(status: PoolStatusJson): void {
    for (const session of status.sessions ?? []) {
      if (session.adapterPid !== null) this.pids.add(session.adapterPid);
      for (const pid of session.enginePids) this.pids.add(pid);
    }
  }

  /** Notes the session pids a log line mentions. */
  protected override toLogLine(fields: Record<string, unknown>, stream: OutputStream): LogLine {
    const line = super.toLogLine(fields, stream);
    if (typeof line.adapterPid === 'number') this.pids.add(line.adapterPid);
    if (Array.isArray(line.enginePids)) {
      for (const pid of line.enginePids) if (typeof pid === 'number') this.pids.add(pid);
    }
    return line;
  }
}

export function startPool(env: Record<string, string> = {}): PoolProcess {
  return new PoolProcess(env);
}

/** The tests' environment without settings that would change the pool or its sessions. */
function baseEnvironment(): NodeJS.ProcessEnv {
  return cleanEnvironment(/^(ENGINE_|PISTON_|FAKE_ENGINE_|POOL_)/, 'LOG_LEVEL');
}
