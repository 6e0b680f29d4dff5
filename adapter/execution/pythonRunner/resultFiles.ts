import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeProcessFolder } from '../../files/processFolders';
import { RUNNER_PARTS, type RunnerCodeFiles } from './program';
import type { ResultFileContent } from './runnerResult';
import { randomHex } from './randomHex';

/**
 * Where the runner leaves its result when the engine's jobs run on this file system: out of
 * band, so the program's stdout and its output limit stay the program's own.
 *
 * One folder, made on first use outside the session files, mode 1733: every job's uid may
 * create a file in it (real Piston runs each job as another uid, 1001..1500), none may list
 * it, and only a file's owner or the adapter may remove it. Piston clears what a job's uid
 * owns at the top of /tmp after the job, which is why the files sit one level down. Each name
 * is 128 random bits that only the runner's deleted source holds, and the runner creates the
 * file with O_EXCL, so no job can read, plant or replace another's result.
 */
export class ResultFiles {
  private folder: string | null = null;
  private runnerFolder: string | null = null;
  private code: RunnerCodeFiles | null = null;
  private closed = false;

  constructor(
    private readonly parent: string = os.tmpdir(),
    /** Bytes read at most: the runner's own limit, in UTF-8, and its record's keys. */
    private readonly maxBytes: number = 4 * 1024 * 1024 + 64 * 1024,
  ) {}

  /** A fresh path for one execution's result. */
  newPath(): string {
    return path.join(this.ensureFolder(), `${randomHex(16)}.json`);
  }

  /**
   * Where jobs find the runner: a folder of the adapter's own, mode 0755, beside the results
   * folder, holding each part's source and each part compiled by each Python (runner_boot.py
   * adds the part and the interpreter's tag). No job can create, link or replace anything in
   * it, so what jobs run from it is what the adapter put there: its warm-up job's compiled
   * parts (warmUpPrefix, adoptWarmUp); until then, and where that fails, jobs compile them.
   * The names are no secret: code can read them from the runner's frames.
   */
  runnerCode(): RunnerCodeFiles {
    if (this.closed) throw new Error('the results folder is closed (the adapter is stopping)');
    if (this.code === null) {
      const folder = makeProcessFolder('piston-session-runner-', this.parent);
      chmodSync(folder, 0o755); // mkdtemp makes it 0700: every job's uid reads it
      const code = {
        cachePrefix: path.join(folder, 'cache-'),
        sourcePrefix: path.join(folder, 'source-'),
        cacheOwner: process.getuid?.() ?? 0,
      };
      try {
        for (const [part, source] of Object.entries(RUNNER_PARTS)) {
          const file = `${code.sourcePrefix}${part}.py`;
          writeFileSync(file, source, { flag: 'wx' });
          chmodSync(file, 0o644); // whatever the umask: every job's uid reads it
        }
      } catch (error) {
        // A failure (ENOSPC) leaves nothing behind: the next call starts afresh.
        rmSync(folder, { recursive: true, force: true });
        throw error;
      }
      this.runnerFolder = folder;
      this.code = code;
    }
    return this.code;
  }

  /** Where one warm-up job leaves its compiled parts: a name only that job's source holds. */
  warmUpPrefix(): string {
    return path.join(this.ensureFolder(), `incoming-${randomHex(16)}-`);
  }

  /**
   * Copies what a warm-up job compiled into the cache, as the adapter's own files (a copy,
   * not a rename: the copy's owner is the adapter), and removes the job's; keep false: a
   * failed job's are only removed. A name already in the cache is replaced: no job's file
   * stays under it. Returns what was adopted: each part with its Python's tag.
   */
  adoptWarmUp(outPrefix: string, keep: boolean): string[] {
    // A warm-up that ends after shutdown has nothing to keep, nor a folder to keep it in.
    if (this.closed) return [];
    const folder = path.dirname(outPrefix);
    const start = path.basename(outPrefix);
    const { cachePrefix } = this.runnerCode();
    const adopted: string[] = [];
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return [];
    }
    for (const name of names) {
      if (!name.startsWith(start)) continue;
      const incoming = path.join(folder, name);
      const content = this.takeBytes(incoming, WARM_UP_MAX_BYTES);
      if (!keep || content.kind !== 'bytes') continue;
      const cached = `${cachePrefix}${name.slice(start.length)}`;
      this.discard(cached);
      try {
        writeFileSync(cached, content.bytes, { flag: 'wx' });
        chmodSync(cached, 0o644);
        adopted.push(name.slice(start.length));
      } catch {
        this.discard(cached); // ENOSPC and friends: jobs compile this part themselves
      }
    }
    return adopted;
  }

  /**
   * Reads the result and removes the file; called once the engine has answered. Synchronous:
   * on a local folder open, stat, read, close and unlink take microseconds, where each
   * promise-based call costs tens of them on the event loop (a thread-pool round trip), and
   * this runs for every Python execution.
   */
  take(file: string): ResultFileContent {
    const content = this.takeBytes(file, this.maxBytes);
    return content.kind === 'bytes'
      ? { kind: 'text', text: content.bytes.toString('utf8') }
      : content;
  }

  /** A file's bytes, removed after: only a regular file, never through a link, bounded. */
  private takeBytes(file: string, maxBytes: number): TakenBytes {
    // Most runs leave no file (print(1) has no value): found missing without the cost of a
    // thrown ENOENT, stack and all. open with O_NOFOLLOW still decides the rest.
    try {
      if (lstatSync(file, { throwIfNoEntry: false }) === undefined) return { kind: 'missing' };
    } catch (error) {
      return { kind: 'unreadable', reason: `the result file could not be seen: ${message(error)}` };
    }
    let fd;
    try {
      // O_NONBLOCK: a FIFO that code planted at its own result path (it can read the path
      // from the runner's frame) must not block the event loop for ever in open().
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      this.discard(file); // a planted link or socket: nothing later reads it
      return {
        kind: 'unreadable',
        reason: `the result file could not be opened: ${message(error)}`,
      };
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) {
        // A FIFO (or a folder) is never the runner's: reading one could wait on a writer.
        return { kind: 'unreadable', reason: 'the result path held something other than a file' };
      }
      const { size } = stats;
      if (size > maxBytes) {
        return {
          kind: 'unreadable',
          reason: `the result file held ${size} bytes, over the ${maxBytes} read at most`,
        };
      }
      return { kind: 'bytes', bytes: readFileSync(fd) };
    } catch (error) {
      return { kind: 'unreadable', reason: `the result file could not be read: ${message(error)}` };
    } finally {
      closeSync(fd);
      this.discard(file);
    }
  }

  /** Removes a result nobody will read (the call failed or was abandoned). */
  discard(file: string): void {
    try {
      unlinkSync(file);
    } catch {
      // Never written, or already taken.
    }
  }

  /** Removes the folder and whatever is left in it (the adapter is shutting down). */
  close(): void {
    this.closed = true;
    for (const folder of [this.folder, this.runnerFolder]) {
      if (folder !== null) rmSync(folder, { recursive: true, force: true });
    }
    this.folder = null;
    this.runnerFolder = null;
    this.code = null;
  }

  private ensureFolder(): string {
    if (this.folder === null) {
      const folder = makeProcessFolder('piston-session-results-', this.parent);
      // mkdtemp makes it 0700, and a umask would trim a mode given to mkdir: set it after.
      chmodSync(folder, 0o1733);
      this.folder = folder;
    }
    return this.folder;
  }
}

/** A part's compiled code is tens of kB; more is not a warm-up's. */
const WARM_UP_MAX_BYTES = 1024 * 1024;

type TakenBytes = { kind: 'bytes'; bytes: Buffer } | Exclude<ResultFileContent, { kind: 'text' }>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
