import { randomUUID } from 'node:crypto';
import { chmodSync, constants, mkdirSync, readdirSync, type ReadStream, type Stats } from 'node:fs';
import { lstat, open, opendir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PistonFile } from '../piston/types';
import { contentTypeOf } from './contentTypes';
import {
  fileNameIsAFolder,
  uploadReplaced,
  fileNotFound,
  filesExceedEngineLimit,
  fileTooLarge,
  sessionBelongsToAnotherIdentifier,
  sessionFilesTooLarge,
  tooManyFiles,
  uploadExceedsEngineBody,
} from './fileErrors';
import { parseFileName } from './fileNames';
import {
  SHARED_FILE_MODE,
  SHARED_FOLDER_MODE,
  foldersUnchanged,
  surveyFolder,
  SURVEY_MAX_ENTRIES,
  type FolderSurvey,
} from './folderSurvey';
import { KeyedQueue } from './keyedQueue';
import { encodedFileBytes, toPistonFile } from './pistonFiles';
import { SessionOwnership } from './sessionOwnership';
import { SurveyScheduler } from './surveyScheduler';

export interface StoredFile {
  name: string;
  size: number;
  lastModified: Date;
  contentType: string;
}

export interface FileStoreOptions {
  /** The container's session folder: the files themselves, no subfolders per identifier. */
  dir: string;
  maxFileBytes: number;
  maxCount: number;
  /** Cap on the folder as a whole, whatever wrote it (uploads and code). */
  maxTotalBytes: number;
  /**
   * shared: the engine's jobs use the folder in place (code reads and writes it);
   * separate: the files travel, base64, in each engine request.
   */
  engineFilesystem: 'shared' | 'separate';
  /** The engine's JSON body limit: in separate mode, the session's files must fit in it. */
  engineBodyLimitBytes: number;
}

/** What an execution's answer says when the code left the folder over its cap. */
export interface SessionFilesNotice {
  overLimit: true;
  totalBytes: number;
  limit: number;
  setting: 'FILES_MAX_TOTAL_BYTES';
  message: string;
}

/**
 * Uploads in progress are files of the folder itself (so the final rename is atomic), under a
 * hidden name of their own while they stream in. Not a staging folder: FILES_DIR is writable
 * by every job uid, so a job could replace a folder there with a link, and the adapter (root
 * in the image) would write through it. A file is opened O_EXCL|O_NOFOLLOW and then only used
 * through its descriptor, which no link can redirect.
 */
const STAGING_PREFIX = '.upload-';
const STAGING_SUFFIX = '.part';
// O_NONBLOCK: a job could put a FIFO where the staged file was.
const OPEN_STAGED = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const SESSION_KEY = 'session';
/** How stale the folder's measured size may grow when no entry was added or removed. */
const FULL_SURVEY_EVERY_MS = 1000;
// Never follow a link a job planted (the adapter is root in the image); never hang on a FIFO.
const OPEN_FOR_READING = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The container's session files: one folder (/mnt/data in the image), which belongs to one
 * identifier at a time (see SessionOwnership). Every upload lands whole: streamed to a
 * temporary file and renamed into place, so a reader sees the old file or the new one.
 * Names are checked here too, where the filesystem is touched.
 *
 * Only top-level regular files with one link are the session's "files" (listed, served);
 * the folder's total counts everything in it, since code may write anything there.
 */
export class FileStore {
  /** Serialises the checks and renames, so concurrent uploads cannot overshoot a limit. */
  private readonly commits = new KeyedQueue();
  readonly ownership: SessionOwnership;
  private readonly surveys: SurveyScheduler<{ survey: FolderSurvey; generation: number }>;
  /** The folder's size as last measured (upload, delete, or survey after an execution). */
  private knownTotalBytes = 0;
  private overLimit = false;
  /** The last full survey: its folder stamps tell whether the next one is needed. */
  private lastSurvey: FolderSurvey | null = null;
  private lastSurveyAt = 0;
  /** Names of uploads streaming in now: left out of listings, surveys and DELETE /session. */
  private readonly staging = new Set<string>();

  constructor(readonly options: FileStoreOptions) {
    const holdsFiles = prepareFolder(options);
    this.ownership = new SessionOwnership(holdsFiles);
    this.surveys = new SurveyScheduler(async () => {
      const generation = this.ownership.generation;
      const survey = await surveyFolder(this.options.dir, {
        skip: this.staging,
        normalise: this.options.engineFilesystem === 'shared',
      });
      return { survey, generation };
    });
  }

  get dir(): string {
    return this.options.dir;
  }

  get shared(): boolean {
    return this.options.engineFilesystem === 'shared';
  }

  /** From memory, no file-system work: for /listSessions and counters. */
  usage(): { hasFiles: boolean; totalBytes: number; overLimit: boolean } {
    return {
      hasFiles: this.ownership.hasFiles,
      totalBytes: this.ownership.hasFiles ? this.knownTotalBytes : 0,
      overLimit: this.overLimit,
    };
  }

  /** 409 when another identifier's files are in the folder; never says whose. */
  assertMayUse(identifier: string | undefined): void {
    if (!this.ownership.admit(identifier).allowed) throw sessionBelongsToAnotherIdentifier();
  }

  async list(identifier: string | undefined): Promise<StoredFile[]> {
    this.assertMayUse(identifier);
    return this.listFiles();
  }

  async describe(identifier: string | undefined, rawName: string | undefined): Promise<StoredFile> {
    this.assertMayUse(identifier);
    const name = parseFileName(rawName);
    const file = await this.statFile(name);
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
    this.assertMayUse(identifier);
    const name = parseFileName(rawName);
    let handle;
    try {
      handle = await open(path.join(this.dir, name), OPEN_FOR_READING);
    } catch (error) {
      if (isMissing(error) || isLink(error)) throw await this.notFound(identifier, name);
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!isSessionFile(stats)) throw await this.notFound(identifier, name);
      return { file: describeStats(name, stats), stream: handle.createReadStream() };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async remove(identifier: string | undefined, rawName: string | undefined): Promise<void> {
    this.assertMayUse(identifier);
    const name = parseFileName(rawName);
    await this.commits.run(SESSION_KEY, async () => {
      this.assertMayUse(identifier);
      const file = await this.statFile(name);
      if (file === undefined) throw await this.notFound(identifier, name);
      await rm(path.join(this.dir, name), { force: true });
      this.knownTotalBytes = Math.max(0, this.knownTotalBytes - file.size);
      this.lastSurvey = null;
      const generation = this.ownership.generation;
      this.ownership.observed(await this.holdsAnything(), identifier, generation);
    });
  }

  /**
   * Ends the session (DELETE /session): empties the folder, whatever code left in it, and
   * frees the container for any identifier. The folder itself stays: jobs write into it.
   */
  async clear(identifier: string | undefined): Promise<{ filesRemoved: number }> {
    this.assertMayUse(identifier);
    return this.commits.run(SESSION_KEY, async () => {
      this.assertMayUse(identifier);
      const filesRemoved = (await this.listFiles()).length;
      const dir = await opendir(this.dir);
      for await (const entry of dir) {
        if (this.staging.has(entry.name)) continue;
        await rm(path.join(this.dir, entry.name), { recursive: true, force: true });
      }
      this.ownership.release();
      this.lastSurvey = null;
      this.knownTotalBytes = 0;
      this.overLimit = false;
      return { filesRemoved };
    });
  }

  /**
   * A fresh path for an upload in progress, in the folder itself (see STAGING_PREFIX). The
   * caller creates it O_EXCL|O_NOFOLLOW and ends with commit or discardStaged.
   */
  stagingPath(): string {
    const name = `${STAGING_PREFIX}${randomUUID()}${STAGING_SUFFIX}`;
    this.staging.add(name);
    return path.join(this.dir, name);
  }

  /** An upload that will not be committed: its staged file goes. */
  async discardStaged(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
    this.staging.delete(path.basename(tempPath));
  }

  /**
   * Moves a fully written temporary file into the session under `rawName`, replacing a file
   * of that name, once the limits allow it; `identifier` then owns the session if nobody
   * did. The temporary file is gone afterwards either way.
   */
  async commit(
    identifier: string | undefined,
    rawName: string | undefined,
    tempPath: string,
  ): Promise<StoredFile> {
    try {
      this.assertMayUse(identifier);
      const name = parseFileName(rawName);
      return await this.commits.run(SESSION_KEY, async () => {
        // Checked again in turn: an upload of another identifier may have landed meanwhile.
        this.assertMayUse(identifier);
        // Through a descriptor, never the path: a job may have swapped the staged file for a
        // link by now, and chmod by path would widen whatever it points at.
        const staged = await open(tempPath, OPEN_STAGED).catch((error: unknown) => {
          throw isMissing(error) || hasCode(error, 'ELOOP', 'ENXIO') ? uploadReplaced(name) : error;
        });
        let stats;
        try {
          stats = await staged.stat();
          if (!isSessionFile(stats)) throw uploadReplaced(name);
          await this.assertWithinLimits(name, stats.size);
          // Any job's uid may change or delete an upload, as it may what jobs wrote.
          if (this.shared) await staged.chmod(SHARED_FILE_MODE);
        } finally {
          await staged.close();
        }
        // Claimed before it lands: a survey ending meanwhile must not hand it to another.
        this.ownership.filesAdded(identifier);
        try {
          await rename(tempPath, path.join(this.dir, name));
        } catch (error) {
          // Code made a folder of that name: an upload does not replace a folder.
          if (hasCode(error, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw fileNameIsAFolder(name);
          if (isMissing(error)) throw uploadReplaced(name);
          throw error;
        }
        // Described from the temporary file: a later upload of the same name may already
        // have replaced this one, and the reply must describe what this upload stored.
        return describeStats(name, stats);
      });
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    } finally {
      this.staging.delete(path.basename(tempPath));
    }
  }

  /**
   * What an execution carries (separate mode): every file, base64 so the engine writes
   * bytes back as they are and its compile stage, which takes every utf8 file, never sees
   * them (contract section 5). Shared mode carries nothing: the code works in the folder.
   */
  async filesForExecution(identifier: string | undefined): Promise<PistonFile[]> {
    this.assertMayUse(identifier);
    if (this.shared || !this.ownership.hasFiles) return [];
    const files = await this.listFiles();
    const limit = this.options.engineBodyLimitBytes;
    // Encoding never shrinks content: past the limit the request cannot fit, so refuse
    // before reading what may be megabytes into memory.
    if (files.reduce((sum, file) => sum + file.size, 0) > limit) {
      throw filesExceedEngineLimit(files, limit);
    }
    const read = await Promise.all(
      files.map(async (file) => {
        try {
          return toPistonFile(file.name, await readFile(path.join(this.dir, file.name)));
        } catch (error) {
          if (isMissing(error)) return undefined; // deleted since the listing
          throw error;
        }
      }),
    );
    return read.filter((file): file is PistonFile => file !== undefined);
  }

  /**
   * After a job in shared mode: take stock of what the code left, widen modes so the next
   * job's uid can use it, and say whether `identifier` now owns files. Concurrent callers
   * share surveys, each waiting for one that started after it asked (see SurveyScheduler).
   */
  async afterExecution(identifier: string | undefined): Promise<SessionFilesNotice | undefined> {
    if (!this.shared) return undefined;
    if (this.lastSurvey !== null && (await foldersUnchanged(this.lastSurvey.folderStamps))) {
      // No entry added or removed anywhere: nothing to widen, ownership as it was. Files
      // grown in place are counted by a full survey at most a second old, off the answer's path.
      if (performance.now() - this.lastSurveyAt > FULL_SURVEY_EVERY_MS) {
        void this.surveys
          .fresh()
          .then(({ survey }) => this.record(survey))
          .catch(() => undefined);
      }
      return this.overLimit ? this.overLimitNotice(this.lastSurvey) : undefined;
    }
    const { survey, generation } = await this.surveys.fresh();
    this.ownership.observed(survey.entries > 0, identifier, generation);
    this.record(survey);
    return this.overLimit ? this.overLimitNotice(survey) : undefined;
  }

  /** Removes the folder itself: only for one the adapter made for this process alone. */
  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private record(survey: FolderSurvey): void {
    this.lastSurvey = survey;
    this.lastSurveyAt = performance.now();
    this.knownTotalBytes = survey.totalBytes;
    this.overLimit = survey.truncated || survey.totalBytes > this.options.maxTotalBytes;
  }

  private overLimitNotice(survey: FolderSurvey): SessionFilesNotice {
    const limit = this.options.maxTotalBytes;
    const measured = survey.truncated
      ? `holds more than ${SURVEY_MAX_ENTRIES} entries (or folders nested too deep to count)`
      : `comes to ${survey.totalBytes} bytes`;
    return {
      overLimit: true,
      totalBytes: survey.totalBytes,
      limit,
      setting: 'FILES_MAX_TOTAL_BYTES',
      message: `the session folder ${measured}, over the limit of ${limit} bytes (FILES_MAX_TOTAL_BYTES): uploads are refused until files are deleted (DELETE /files/{name} or DELETE /session)`,
    };
  }

  private async assertWithinLimits(name: string, size: number): Promise<void> {
    const { maxFileBytes, maxCount, maxTotalBytes, engineBodyLimitBytes } = this.options;
    if (size > maxFileBytes) throw fileTooLarge(name, maxFileBytes);
    const files = await this.listFiles();
    // Replacing a file frees its place and its bytes.
    const others = files.filter((file) => file.name !== name);
    if (others.length >= maxCount) throw tooManyFiles(name, others.length, maxCount);
    // The whole folder, measured now: code may have written anywhere in it.
    const survey = await surveyFolder(this.dir, { skip: this.staging, normalise: false });
    this.record(survey);
    // Widened nothing, and the rename to come changes the folder: the next execution surveys.
    this.lastSurvey = null;
    const replaced = files.find((file) => file.name === name)?.size ?? 0;
    const total = survey.totalBytes - replaced + size;
    if (survey.truncated || total > maxTotalBytes) {
      throw sessionFilesTooLarge(name, size, total, maxTotalBytes);
    }
    if (!this.shared) {
      const encoded =
        others.reduce((sum, file) => sum + encodedFileBytes(file.name, file.size), 0) +
        encodedFileBytes(name, size);
      if (encoded > engineBodyLimitBytes) {
        throw uploadExceedsEngineBody(name, size, encoded, engineBodyLimitBytes);
      }
    }
    this.knownTotalBytes = total;
  }

  private async listFiles(): Promise<StoredFile[]> {
    let dir;
    try {
      dir = await opendir(this.dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const names: string[] = [];
    for await (const entry of dir) {
      if (entry.isFile() && !entry.name.startsWith('.')) names.push(entry.name);
    }
    const files = await Promise.all(names.map((name) => this.statFile(name)));
    return files
      .filter((file): file is StoredFile => file !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async statFile(name: string): Promise<StoredFile | undefined> {
    try {
      const stats = await lstat(path.join(this.dir, name));
      return isSessionFile(stats) ? describeStats(name, stats) : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Anything in the folder but the adapter's own: one directory read, stopped early. */
  private async holdsAnything(): Promise<boolean> {
    const dir = await opendir(this.dir);
    try {
      for (let entry = await dir.read(); entry !== null; entry = await dir.read()) {
        if (!this.staging.has(entry.name)) return true;
      }
      return false;
    } finally {
      await dir.close();
    }
  }

  private async notFound(identifier: string | undefined, name: string) {
    const existing = await this.listFiles();
    return fileNotFound(
      name,
      identifier,
      existing.map((file) => file.name),
    );
  }
}

/**
 * Creates the folder at start (synchronously: once, before the port opens), world-writable
 * when jobs of other uids write it, and says whether it already holds anything.
 */
function prepareFolder(options: FileStoreOptions): boolean {
  mkdirSync(options.dir, { recursive: true });
  if (options.engineFilesystem === 'shared') {
    try {
      chmodSync(options.dir, SHARED_FOLDER_MODE);
    } catch (error) {
      // Not the folder's owner (a mount prepared by someone else): use it as it is.
      if ((error as { code?: unknown }).code !== 'EPERM') throw error;
    }
  }
  return readdirSync(options.dir).length > 0;
}

/** A regular file with one link: a hard link to a file elsewhere is never served. */
function isSessionFile(stats: Stats): boolean {
  return stats.isFile() && stats.nlink === 1;
}

function describeStats(name: string, stats: Stats): StoredFile {
  return { name, size: stats.size, lastModified: stats.mtime, contentType: contentTypeOf(name) };
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isLink(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ELOOP' || code === 'ENXIO';
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
