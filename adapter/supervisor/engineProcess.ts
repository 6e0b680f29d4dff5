/**
 * The only module that starts processes. Unit tests replace it with jest.mock; everything
 * else sees the small interface below. node:child_process rather than execa: the adapter's
 * whole memory budget is 70 MB, and execa (ESM, a dozen dependencies) took 4-9 MB of it for
 * a spawn, a process group and two line readers.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { settleWithin } from './deadline';

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

/**
 * ENGINE_COMMAND as argv: split on spaces, a backslash before a space keeps it in the part
 * (`/opt/my\ engine/run --x` is two parts). No shell, so no other quoting.
 */
export function parseCommandLine(command: string): string[] {
  const parts: string[] = [];
  for (const token of command.trim().split(/ +/)) {
    const previous = parts[parts.length - 1];
    if (previous?.endsWith('\\')) parts[parts.length - 1] = `${previous.slice(0, -1)} ${token}`;
    else if (token !== '') parts.push(token);
  }
  return parts;
}

export async function launchEngineProcess(options: LaunchOptions): Promise<EngineProcess> {
  const [file, ...args] = parseCommandLine(options.command);
  if (file === undefined) throw new Error('the engine command is empty');

  const child = spawn(file, args, {
    env: { ...process.env, ...options.env },
    // A new process group (and session) led by the engine, so signalGroup reaches every job
    // process Piston starts. Nothing cleans up a detached child on its own: the supervisor
    // kills the group itself when the adapter exits.
    detached: true,
    // Output is streamed to the log line by line, never collected in memory.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;

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

  const pumps = (['stdout', 'stderr'] as const).map(
    (stream) =>
      new Promise<void>((resolve) => {
        const source = child[stream];
        // A pipe error just ends the output; the exit status is reported through `exited`.
        source.on('error', () => resolve());
        const lines = createInterface({ input: source, crlfDelay: Infinity });
        lines.on('line', (line) => options.onLine(stream, line, pid));
        lines.once('close', () => resolve());
      }),
  );

  // 'exit' comes as soon as the engine itself is gone, even while its job processes still
  // hold our output pipes open. A command that could not be spawned emits 'error' instead.
  const ended = new Promise<EngineExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, error: null }));
    child.on('error', (error) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error: error.message });
    });
  });

  const exited = (async () => {
    const status = await ended;
    // Nothing in the engine's group may outlive it: an orphaned job would run on with nobody to
    // stop it, and would hold our output pipes open.
    signalGroup('SIGKILL');
    await settleWithin(Promise.all(pumps), OUTPUT_DRAIN_MS);
    return status;
  })();

  return { pid, exited, signalGroup };
}
