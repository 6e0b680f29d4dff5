import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './waitFor';

/** The repository root: the processes under test run from here, as the start script runs them. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

export interface LogLine {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type OutputStream = 'stdout' | 'stderr';

export interface LoggedProcessOptions {
  /** What the process is called in failure messages: "adapter", "pool", "engine". */
  name: string;
  /** How many log lines `describe` shows. */
  tailLines: number;
  /** The default deadline of `waitForLog`. */
  waitTimeoutMs: number;
  /**
   * Whether stderr carries JSON log lines too (they go into `logs`); otherwise it is kept as
   * text in `stderr` and shown by `describe`.
   */
  stderrIsLog?: boolean;
}

/**
 * A built Node script (`main`, run from the repository root) as a real process: its JSON log
 * lines (a line that is not JSON is kept as `{ msg: '(not JSON)', text }`), its stderr and its
 * exit. Subclasses shape each line with `toLogLine`.
 */
export class LoggedProcess<L extends object = LogLine> {
  readonly child: ChildProcess;
  readonly logs: L[] = [];
  /** Whatever it wrote on stderr (a ConfigError, a crash), unless stderr is part of the log. */
  stderr = '';
  readonly exited: Promise<ExitStatus>;
  protected exitStatus: ExitStatus | null = null;
  private readonly rest = { stdout: '', stderr: '' };

  constructor(
    main: string,
    env: NodeJS.ProcessEnv,
    private readonly options: LoggedProcessOptions,
  ) {
    this.child = spawn(process.execPath, [main], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.onData('stdout', chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      if (options.stderrIsLog) this.onData('stderr', chunk);
      else this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        resolve(this.exitStatus);
      });
    });
  }

  get hasExited(): boolean {
    return this.exitStatus !== null;
  }

  /** The first log line matching, waiting up to `timeoutMs`; throws if the process exits first. */
  async waitForLog(
    predicate: (line: L) => boolean,
    { timeoutMs = this.options.waitTimeoutMs, what = 'a log line' } = {},
  ): Promise<L> {
    let found: L | undefined;
    await waitFor(
      () => {
        found = this.logs.find(predicate);
        // Stop waiting early if the process is gone; the check below says so.
        return found !== undefined || this.hasExited;
      },
      { timeoutMs, what: `${what}\n${this.describe()}` },
    );
    // Lines written just before the exit may be parsed after it: look once more.
    found ??= this.logs.find(predicate);
    if (found === undefined) {
      throw new Error(`${this.options.name} exited before ${what}\n${this.describe()}`);
    }
    return found;
  }

  /** The log so far, for failure messages. */
  describe(): string {
    const { name, tailLines, stderrIsLog } = this.options;
    const tail = this.logs
      .slice(-tailLines)
      .map((line) => JSON.stringify(line))
      .join('\n');
    const log = `--- ${name} log (last ${tailLines} lines) ---\n${tail}`;
    return stderrIsLog ? log : `${log}\n--- stderr ---\n${this.stderr}`;
  }

  /** One parsed line (or the not-JSON stand-in) as it goes into `logs`. */
  protected toLogLine(fields: Record<string, unknown>, _stream: OutputStream): L {
    return fields as L;
  }

  private onData(stream: OutputStream, chunk: string): void {
    const lines = (this.rest[stream] + chunk).split('\n');
    this.rest[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(line) as Record<string, unknown>;
      } catch {
        fields = { msg: '(not JSON)', text: line };
      }
      this.logs.push(this.toLogLine(fields, stream));
    }
  }
}

/**
 * The tests' environment without settings that would change the process under test: every
 * variable whose name matches `drop`, NODE_OPTIONS, and the names in `alsoDrop`.
 */
export function cleanEnvironment(drop: RegExp, ...alsoDrop: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (drop.test(name)) delete env[name];
  }
  for (const name of ['NODE_OPTIONS', ...alsoDrop]) delete env[name];
  return env;
}
