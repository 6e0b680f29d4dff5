/**
 * Runs one stage (compile or run) of a job as Piston v3 did: `timeout -s KILL N prlimit ...
 * bash <stage script> <args>` in the job directory, in a process group of its own, stdin
 * written at once, stdout and stderr captured under the output limit, the whole group killed
 * with SIGKILL on timeout, on output overflow, and once the stage's leader exits (Piston kills
 * every process of the job's user at that point).
 *
 * Not a sandbox: the stage runs with the engine's user, network and file system. Limits:
 * - file size (`--fsize`) and open files (`--nofile`) through prlimit, when installed;
 * - memory (`--as`) only when a memory limit is set (Piston's default is none);
 * - the process count is NOT limited: RLIMIT_NPROC counts every process of the user, and the
 *   engine does not run jobs under users of their own as Piston does;
 * - the CPU time limits of Piston's master are validated but not enforced: the wall-clock
 *   timeout stands in for them.
 */
import { spawn } from 'node:child_process';
import { StreamCapture } from './outputLimit';

/**
 * Stage scripts report their CPU time on this descriptor: the `times` builtin after the
 * stage's commands, which do not see the descriptor (`3>&-`).
 */
const REPORT_FD = 3;
const REPORT_MAX_BYTES = 4096;

/** Once the leader has exited and its group is killed, how long the pipes may take to close. */
const CLOSE_GRACE_MS = 500;

export function wrapStageScript(body: string): string {
  return [
    '# Written by the local engine. The stage runs between the braces; after it, `times`',
    `# reports its CPU time on descriptor ${REPORT_FD}.`,
    '{',
    body,
    `} ${REPORT_FD}>&-`,
    'local_engine_status=$?',
    `times 2>/dev/null >&${REPORT_FD}`,
    'exit "$local_engine_status"',
    '',
  ].join('\n');
}

/** Programs found on this machine (absolute paths); the optional ones are used when present. */
export interface ProcessTools {
  /** Runs the stage scripts, as in Piston. Required. */
  bash: string;
  /** coreutils timeout: a second timeout that holds even if the engine itself is killed. */
  timeout: string | null;
  /** util-linux prlimit: file size, open files and memory limits. */
  prlimit: string | null;
}

export interface StageOptions {
  script: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  /** 0 or less: no timeout. */
  timeoutMs: number;
  /** Bytes of address space; negative: no limit. */
  memoryLimit: number;
  outputMaxSize: number;
  maxOpenFiles: number;
  maxFileSize: number;
  tools: ProcessTools;
  /** Process groups of running stages, for the engine to kill when it stops. */
  runningGroups: Set<number>;
}

export type KillReason = 'timeout' | 'stdout-limit' | 'stderr-limit';

export interface StageOutcome {
  stdout: string;
  stderr: string;
  /** Both streams in the order their chunks arrived. */
  output: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the engine killed the stage, with the first reason it had. */
  killedFor: KillReason | null;
  /** User plus system time of the stage script and its children; null if it was killed. */
  cpuTimeMs: number | null;
  wallTimeMs: number;
}

export function stageCommand(options: StageOptions): string[] {
  const { tools, timeoutMs, memoryLimit } = options;
  const command: string[] = [];
  if (tools.timeout !== null && timeoutMs > 0) {
    // One second past our own timer, so that the engine's kill (and its report) comes first.
    command.push(tools.timeout, '-s', 'KILL', String(Math.ceil(timeoutMs / 1000) + 1));
  }
  if (tools.prlimit !== null) {
    command.push(
      tools.prlimit,
      `--nofile=${options.maxOpenFiles}`,
      `--fsize=${options.maxFileSize}`,
      ...(memoryLimit >= 0 ? [`--as=${memoryLimit}`] : []),
    );
  }
  command.push(tools.bash, options.script, ...options.args);
  return command;
}

export function runStage(options: StageOptions): Promise<StageOutcome> {
  return new Promise((resolve, reject) => {
    const [file = options.tools.bash, ...args] = stageCommand(options);
    const started = performance.now();
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      // A group of its own, so one kill reaches every process the stage starts.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let killedFor: KillReason | null = null;
    const killGroup = (reason: KillReason | null) => {
      if (killedFor === null) killedFor = reason;
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // ESRCH: nothing left in the group.
      }
    };

    const stdout = new StreamCapture(options.outputMaxSize);
    const stderr = new StreamCapture(options.outputMaxSize);
    const output: Buffer[] = [];
    const capture = (capture: StreamCapture, reason: KillReason) => (chunk: Buffer) => {
      if (capture.offer(chunk)) output.push(chunk);
      else killGroup(reason);
    };
    child.stdout?.on('data', capture(stdout, 'stdout-limit'));
    child.stderr?.on('data', capture(stderr, 'stderr-limit'));
    let report = '';
    const reportStream = child.stdio[REPORT_FD];
    reportStream?.on('data', (chunk: Buffer) => {
      if (report.length < REPORT_MAX_BYTES) report += chunk.toString('utf8');
    });

    // The program may exit without reading its input: that EPIPE is no error of ours.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.stdin);

    const timer =
      options.timeoutMs > 0 ? setTimeout(() => killGroup('timeout'), options.timeoutMs) : null;
    if (pid !== undefined) options.runningGroups.add(pid);

    const closed = new Promise<void>((resolveClosed) => child.once('close', () => resolveClosed()));
    child.once('error', (error) => {
      if (timer) clearTimeout(timer);
      if (pid !== undefined) options.runningGroups.delete(pid);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      const wallTimeMs = Math.round(performance.now() - started);
      if (timer) clearTimeout(timer);
      // Whatever the stage left running dies with it; its pipes then close.
      killGroup(null);
      void settleWithin(closed, CLOSE_GRACE_MS).then(() => {
        if (pid !== undefined) options.runningGroups.delete(pid);
        // A process that left the group (setsid) may still hold a pipe: stop reading it.
        for (const stream of child.stdio) stream?.destroy();
        resolve({
          stdout: stdout.text(),
          stderr: stderr.text(),
          output: Buffer.concat(output).toString('utf8'),
          code,
          signal,
          killedFor,
          cpuTimeMs: killedFor === null ? parseCpuReport(report) : null,
          wallTimeMs,
        });
      });
    });
  });
}

/** Sum of the user and system times `times` printed ("0m0.012s 0m0.004s" per line), in ms. */
export function parseCpuReport(report: string): number | null {
  const times = [...report.matchAll(/(\d+)m(\d+(?:\.\d+)?)s/g)];
  if (times.length === 0) return null;
  const seconds = times.reduce((sum, [, m = '0', s = '0']) => sum + Number(m) * 60 + Number(s), 0);
  return Math.round(seconds * 1000);
}

function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
