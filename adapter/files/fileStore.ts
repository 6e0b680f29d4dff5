import { randomUUID } from 'node:crypto';
import type { ReadStream, Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { PistonFile } from '../piston/types';
import { contentTypeOf } from './contentTypes';
import {
  fileNotFound,
  filesExceedEngineLimit,
  fileTooLarge,
  sessionFilesTooLarge,
  tooManyFiles,
} from './fileErrors';
import { parseFileName } from './fileNames';
import { KeyedQueue } from './keyedQueue';
import { toPistonFile } from './pistonFiles';
import { sessionFolderName } from './sessionFolders';

export interface StoredFile {
  name: string;
  size: number;
  lastModified: Date;
  contentType: string;
}

export interface FileStoreOptions {
  /** Root folder; each session identifier gets a subfolder. */
  dir: string;
  maxFileBytes: number;
  maxCount: number;
  maxTotalBytes: number;
  /**
   * The most file bytes one execution can carry: the engine's JSON body limit. Beyond it the
   * files could never reach the engine, so filesForExecution refuses before reading them.
   */
  executionBytesLimit: number;
}

/** Uploads in progress; a leading dot keeps it apart from session folders. */
const INCOMING_FOLDER = '.incoming';

/**
 * Session files on disk, one folder per identifier. Every write lands whole: an upload is
 * streamed to a temporary file and renamed into place, so a reader sees the old file or the
 * new one, never half of either. Names are checked here too, where the filesystem is touched.
 */
export class FileStore {
  /** Serialises the limit check and rename per session, so concurrent uploads can't overshoot. */
  private readonly commits = new KeyedQueue();

  constructor(readonly options: FileStoreOptions) {}

  async list(identifier: string | undefined): Promise<StoredFile[]> {
    const folder = this.folderOf(identifier);
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const files = await Promise.all(
      entries
        .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
        .map((entry) => statFile(folder, entry.name)),
    );
    return files
      .filter((file): file is StoredFile => file !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async describe(identifier: string | undefined, rawName: string | undefined): Promise<StoredFile> {
    const name = parseFileName(rawName);
    const file = await statFile(this.folderOf(identifier), name);
    if (file === undefined) throw await this.notFound(identifier, name);
    return file;
  }

  /**
   * The file's bytes as a stream, with the metadata of exactly the bytes streamed: the size
   * comes from the open descriptor, so a concurrent replace cannot make content-length lie.
   */
  async openForReading(
    identifier: string | undefined,
    rawName: string | undefined,
  ): Promise<{ file: StoredFile; stream: ReadStream }> {
    const name = parseFileName(rawName);
    let handle;
    try {
      handle = await open(path.join(this.folderOf(identifier), name), 'r');
    } catch (error) {
      if (isMissing(error)) throw await this.notFound(identifier, name);
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw await this.notFound(identifier, name);
      return { file: describeStats(name, stats), stream: handle.createReadStream() };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async remove(identifier: string | undefined, rawName: string | undefined): Promise<void> {
    const name = parseFileName(rawName);
    try {
      await unlink(path.join(this.folderOf(identifier), name));
    } catch (error) {
      if (isMissing(error)) throw await this.notFound(identifier, name);
      throw error;
    }
  }

  /** Removes every file of a session (DELETE /session). */
  async clear(identifier: string | undefined): Promise<void> {
    const folder = this.folderOf(identifier);
    await this.commits.run(folder, () => rm(folder, { recursive: true, force: true }));
  }

  /**
   * A fresh path for an upload in progress. It sits under the same root as the session
   * folders, so the rename in commit stays on one filesystem and is atomic.
   */
  async incomingPath(): Promise<string> {
    const folder = path.join(this.options.dir, INCOMING_FOLDER);
    await mkdir(folder, { recursive: true });
    return path.join(folder, `${randomUUID()}.part`);
  }

  /**
   * Moves a fully written temporary file into the session under `rawName`, replacing a file
   * of that name, once the session's limits allow it. The temporary file is gone afterwards
   * either way.
   */
  async commit(
    identifier: string | undefined,
    rawName: string | undefined,
    tempPath: string,
  ): Promise<StoredFile> {
    const folder = this.folderOf(identifier);
    try {
      const name = parseFileName(rawName);
      return await this.commits.run(folder, async () => {
        const stats = await stat(tempPath);
        this.assertWithinLimits(name, stats.size, await this.list(identifier));
        await mkdir(folder, { recursive: true });
        await rename(tempPath, path.join(folder, name));
        // Described from the temporary file: a later upload of the same name may already
        // have replaced this one, and the reply must describe what this upload stored.
        return describeStats(name, stats);
      });
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  /**
   * Every file of the session as the engine takes it, so code finds them beside itself
   * (`open('data.csv')`). Text goes as utf8, anything else as base64.
   */
  async filesForExecution(identifier: string | undefined): Promise<PistonFile[]> {
    const files = await this.list(identifier);
    const total = files.reduce((sum, file) => sum + file.size, 0);
    // Encoding never shrinks content, so past the limit the request cannot fit: refuse
    // before reading what may be hundreds of megabytes into memory.
    if (total > this.options.executionBytesLimit) {
      throw filesExceedEngineLimit(files, this.options.executionBytesLimit);
    }
    const folder = this.folderOf(identifier);
    const read = await Promise.all(
      files.map(async (file) => {
        try {
          return toPistonFile(file.name, await readFile(path.join(folder, file.name)));
        } catch (error) {
          if (isMissing(error)) return undefined; // deleted since the listing
          throw error;
        }
      }),
    );
    return read.filter((file): file is PistonFile => file !== undefined);
  }

  private assertWithinLimits(name: string, size: number, existing: StoredFile[]): void {
    const { maxFileBytes, maxCount, maxTotalBytes } = this.options;
    if (size > maxFileBytes) throw fileTooLarge(name, maxFileBytes);
    // Replacing a file frees its place and its bytes.
    const others = existing.filter((file) => file.name !== name);
    if (others.length >= maxCount) throw tooManyFiles(name, others.length, maxCount);
    const total = others.reduce((sum, file) => sum + file.size, 0) + size;
    if (total > maxTotalBytes) throw sessionFilesTooLarge(name, size, total, maxTotalBytes);
  }

  private async notFound(identifier: string | undefined, name: string) {
    const existing = await this.list(identifier);
    return fileNotFound(
      name,
      identifier,
      existing.map((file) => file.name),
    );
  }

  private folderOf(identifier: string | undefined): string {
    return path.join(this.options.dir, sessionFolderName(identifier));
  }
}

async function statFile(folder: string, name: string): Promise<StoredFile | undefined> {
  try {
    const stats = await stat(path.join(folder, name));
    return stats.isFile() ? describeStats(name, stats) : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function describeStats(name: string, stats: Stats): StoredFile {
  return { name, size: stats.size, lastModified: stats.mtime, contentType: contentTypeOf(name) };
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
