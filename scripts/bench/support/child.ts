/**
 * A child process whose stdout is JSON lines (the adapter's pino log, the bench's own stand-in
 * servers): every line is parsed and timestamped on arrival, so a section can wait for one and
 * know when it came.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface LogLine {
  msg?: string;
  [field: string]: unknown;
}

export interface ReceivedLine {
  line: LogLine;
  /** performance.now() in this process when the line arrived. */
  at: number;
}

export class JsonLinesChild {
  readonly child: ChildProcess;
  readonly lines: ReceivedLine[] = [];
  /** performance.now() just before spawning. */
  readonly launchedAt: number;
  stderr = '';
  private rest = '';
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly waiters = new Set<() => void>();
  /** Keep at most this many lines: a long load run logs one line per request. */
  private readonly maxLines = 2_000;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    cwd: string,
  ) {
    this.launchedAt = performance.now();
    this.child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8_000);
    });
    this.child.once('exit', (code, signal) => {
      this.exitStatus = { code, signal };
      this.notify();
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start`);
    return this.child.pid;
  }

  get exited(): boolean {
    return this.exitStatus !== null;
  }

  /** The first line (kept) matching, waiting up to `timeoutMs` for it to arrive. */
  waitForLine(
    predicate: (line: LogLine) => boolean,
    timeoutMs = 30_000,
    what = 'a log line',
  ): Promise<ReceivedLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((received) => predicate(received.line));
        if (found !== undefined) return finish(() => resolve(found));
        if (this.exitStatus !== null) {
          return finish(() =>
            reject(new Error(`${this.name} exited before ${what}: ${this.describe()}`)),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${this.name}: no ${what} in ${timeoutMs} ms; ${this.describe()}`)),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  waitForMessage(msg: string, timeoutMs = 30_000): Promise<ReceivedLine> {
    return this.waitForLine((line) => line.msg === msg, timeoutMs, `"${msg}"`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exitStatus !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  describe(): string {
    const tail = this.lines
      .slice(-15)
      .map((received) => JSON.stringify(received.line))
      .join('\n');
    return `exit ${JSON.stringify(this.exitStatus)}\n${tail}\nstderr: ${this.stderr.slice(-2_000)}`;
  }

  private onStdout(chunk: string): void {
    const at = performance.now();
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const text of parts) {
      // Per-request access log lines are skipped unparsed: a load run writes thousands per
      // second, and parsing them would take CPU from the process being measured.
      if (text.trim() === '' || text.includes('"msg":"request"')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: '(not JSON)', text };
      }
      this.lines.push({ line, at });
      if (this.lines.length > this.maxLines)
        this.lines.splice(0, this.lines.length - this.maxLines);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
