/**
 * The only module that touches execa. execa 9 is ESM-only and jest cannot load it, so unit
 * tests replace this whole module with jest.mock; everything else sees the small interface
 * below. The import is dynamic: TypeScript turns it into require(), which Node >= 20.19 can
 * use on an ES module without top-level await, such as execa.
 */
import { settleWithin } from '../timing/deadline';

export type EngineStream = 'stdout' | 'stderr';

export interface EngineExitStatus {
  code: number | null;
  signal: string | null;
  /** Set when the command could not be run at all (not found, not executable). */
  error: string | null;
}

export interface EngineProcess {
  /** Undefined when the command could not be spawned. */
  readonly pid: number | undefined;
  /**
   * Resolves once the engine has exited and its remaining output has been read (bounded).
   * Never rejects.
   */
  readonly exited: Promise<EngineExitStatus>;
  /**
   * Signals the engine's whole process group: Piston runs each job as its own child, and those
   * must die with it. Returns false when nothing was left to signal.
   */
  signalGroup(signal: NodeJS.Signals): boolean;
}

export interface LaunchOptions {
  /** A command line, split on spaces (no shell; escape a space with a backslash). */
  command: string;
  /** Added to the adapter's own environment. */
  env: Record<string, string>;
  /** Each line the engine writes, without its newline. */
  onLine(stream: EngineStream, line: string, pid: number | undefined): void;
}

/** After the engine exits, how long its last output may take to arrive. */
const OUTPUT_DRAIN_MS = 1_000;

export async function launchEngineProcess(options: LaunchOptions): Promise<EngineProcess> {
  const { execa, parseCommandString } = await import('execa');
  const [file, ...args] = parseCommandString(options.command);
  if (file === undefined) throw new Error('the engine command is empty');

  const subprocess = execa(file, args, {
    env: options.env,
    // A new process group (and session) led by the engine, so signalGroup reaches every job
    // process Piston starts. execa's own cleanup does not apply to detached children: the
    // supervisor kills the group itself when the adapter exits.
    detached: true,
    stdin: 'ignore',
    // Output is streamed to the log line by line, never collected in memory.
    buffer: false,
    // An engine exit is an event to report, not an exception.
    reject: false,
    // execa would escalate on the leader only; the supervisor escalates on the whole group.
    forceKillAfterDelay: false,
  });
  const pid = subprocess.pid;

  const signalGroup = (signal: NodeJS.Signals): boolean => {
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      // ESRCH: the group is already empty.
      return false;
    }
  };

  const pumps = (['stdout', 'stderr'] as const).map(async (stream) => {
    try {
      for await (const line of subprocess.iterable({ from: stream }))
        options.onLine(stream, line, pid);
    } catch {
      // The stream ends with the process; its exit status is reported through `exited`.
    }
  });

  // The 'exit' event comes as soon as the engine itself is gone, even while its job processes
  // still hold our pipes open (which would keep execa's promise pending). A command that could
  // not be spawned emits no 'exit': execa's result reports it instead.
  const leaderExit = new Promise<EngineExitStatus>((resolve) => {
    subprocess.once('exit', (code, signal) => resolve({ code, signal, error: null }));
  });
  const result = subprocess.then((r): EngineExitStatus => ({
    code: r.exitCode ?? null,
    signal: r.signal ?? null,
    error:
      r.failed && r.exitCode === undefined && r.signal === undefined
        ? (r.shortMessage ?? 'could not spawn')
        : null,
  }));

  const exited = (async () => {
    const first = await Promise.race([leaderExit, result]);
    // Nothing in the engine's group may outlive it: an orphaned job would run on with nobody to
    // stop it, and would hold our output pipes open.
    signalGroup('SIGKILL');
    const drained = await settleWithin(Promise.all([result, ...pumps]), OUTPUT_DRAIN_MS);
    return drained.settled ? drained.value[0] : first;
  })();

  return { pid, exited, signalGroup };
}
