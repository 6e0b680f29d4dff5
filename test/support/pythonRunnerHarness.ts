import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readRunnerOutput,
  ResultFiles,
  warmUpProgram,
  wrapPythonCode,
  type RunnerCodeFiles,
} from '../../adapter/execution/pythonRunner/index';

/**
 * The Python runner run the way a pre-isolate Piston job runs it: its file written to a fresh
 * job folder, `python3 <file> <args>` started there, stdin with the newline Piston adds. Real
 * Python, no engine: the output limit and the engine's dialects are tested through the local
 * engine elsewhere (test/local-engine/pythonResults.test.ts).
 */
export type Channel = 'file' | 'stdout';

export interface RunnerRunOptions {
  stdin?: string;
  args?: string[];
  /** file: the result out of band (shared file system); stdout: behind the nonce. */
  channel?: Channel;
  filesDir?: string | null;
  /** With channel file: a path of the test's choosing instead of a fresh one. */
  resultFile?: string;
  outputMaxBytes?: number;
  /** The interpreter; this machine's python3 unless told. */
  python?: string;
  /** Extra interpreter options before the file (e.g. -X importtime). */
  pythonOptions?: string[];
}

export interface RunnerRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  result: unknown;
  resultNote: string | null;
  /** stdout as the process wrote it, marker and all. */
  rawStdout: string;
  /** What was left in the job folder after the run (the runner should have removed itself). */
  jobFolderAfter: string[];
}

export class RunnerHarness {
  readonly root: string;
  jobDir: string;
  /** The size of the last run's entry file, as the engine would write it. */
  lastEntryBytes = 0;
  private readonly resultFiles: ResultFiles;

  constructor() {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'psa-runner-'));
    this.jobDir = path.join(this.root, 'job');
    mkdirSync(this.jobDir);
    mkdirSync(path.join(this.root, 'results'));
    this.resultFiles = new ResultFiles(path.join(this.root, 'results'));
  }

  /** The next run in a fresh job folder, as each Piston job gets its own. */
  nextJobFolder(): void {
    this.jobDir = mkdtempSync(path.join(this.root, 'job-'));
  }

  /** Files in the results and runner folders (results, runner sources, compiled caches). */
  resultsFolder(): string[] {
    return readdirSync(path.join(this.root, 'results')).flatMap((folder) =>
      readdirSync(path.join(this.root, 'results', folder)),
    );
  }

  /** Where this harness's jobs find the runner's code (see ResultFiles.runnerCode). */
  runnerCode(): RunnerCodeFiles {
    return this.resultFiles.runnerCode();
  }

  /** The cache's name prefix for each part's compiled code (see ResultFiles.runnerCode). */
  cachePrefix(): string {
    return this.resultFiles.runnerCode().cachePrefix;
  }

  /**
   * The adapter's warm-up job for this Python, run as the engine would, then adopted into
   * the cache as the adapter's own files. Returns what was adopted.
   */
  warmUp(python: string = defaultPython()): string[] {
    const outPrefix = this.resultFiles.warmUpPrefix();
    const program = warmUpProgram(this.resultFiles.runnerCode(), outPrefix);
    const jobDir = mkdtempSync(path.join(this.root, 'warm-'));
    writeFileSync(path.join(jobDir, program.name), program.content);
    const child = spawnSync(python, [program.name], { cwd: jobDir, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`warm-up failed: ${child.stderr}`);
    return this.resultFiles.adoptWarmUp(outPrefix, true);
  }

  /** A file beside the code, as the engine writes the files that travel with a job. */
  addJobFile(name: string, content: string): void {
    writeFileSync(path.join(this.jobDir, name), content);
  }

  async run(code: string, options: RunnerRunOptions = {}): Promise<RunnerRun> {
    const channel = options.channel ?? 'file';
    const outputMaxBytes = options.outputMaxBytes ?? 1024 * 1024;
    const program = wrapPythonCode(code, {
      outputMaxBytes,
      resultFile: channel === 'file' ? (options.resultFile ?? this.resultFiles.newPath()) : null,
      filesDir: options.filesDir ?? null,
      runnerCode: channel === 'file' ? this.resultFiles.runnerCode() : null,
    });
    const runnerPath = path.join(this.jobDir, program.file.name);
    writeFileSync(runnerPath, program.file.content);
    this.lastEntryBytes = Buffer.byteLength(program.file.content);
    const child = spawnSync(
      options.python ?? defaultPython(),
      [...(options.pythonOptions ?? []), program.file.name, ...(options.args ?? [])],
      {
        cwd: this.jobDir,
        input: `${options.stdin ?? ''}\n`,
        encoding: 'utf8',
        timeout: 20_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    // A program that never reads stdin may exit before the engine has written it all.
    if (child.error && (child.error as NodeJS.ErrnoException).code !== 'EPIPE') throw child.error;
    const jobFolderAfter = readdirSync(this.jobDir);
    if (existsSync(runnerPath)) rmSync(runnerPath);
    const report = readRunnerOutput({
      stdout: child.stdout,
      nonce: program.nonce,
      file: program.resultFile === null ? null : this.resultFiles.take(program.resultFile),
      stopReason: null,
      outputMaxBytes,
    });
    return {
      stdout: report.stdout,
      stderr: child.stderr,
      exitCode: child.status,
      result: report.result,
      resultNote: report.resultNote,
      rawStdout: child.stdout,
      jobFolderAfter,
    };
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

let resolvedPython: string | undefined;

/** python3's real executable: a pyenv shim on PATH costs a shell per run. */
export function defaultPython(): string {
  if (resolvedPython === undefined) {
    const probe = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    });
    resolvedPython = probe.stdout.trim() || 'python3';
  }
  return resolvedPython;
}

/** The Pythons on this machine, 3.6 and later, by version ("3.6.15" -> its interpreter). */
export function installedPythons(): Map<string, string> {
  const found = new Map<string, string>();
  const pyenv = path.join(os.homedir(), '.pyenv/versions');
  if (existsSync(pyenv)) {
    for (const version of readdirSync(pyenv)) {
      const python = path.join(pyenv, version, 'bin/python3');
      const [major, minor] = version.split('.').map(Number);
      if (major === 3 && (minor ?? 0) >= 6 && existsSync(python)) found.set(version, python);
    }
  }
  if (found.size === 0) found.set('python3', 'python3');
  return found;
}
