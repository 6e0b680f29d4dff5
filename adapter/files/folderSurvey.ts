import { constants, lstatSync, type Dirent, type Stats } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Modes every job's uid can use: read, write, and (folders) create and delete inside. */
export const SHARED_FILE_MODE = 0o666;
export const SHARED_FOLDER_MODE = 0o777;

/** Entries a survey looks at before it stops: one pass stays bounded whatever code leaves. */
export const SURVEY_MAX_ENTRIES = 10_000;
/** Folder depth a survey descends to. */
export const SURVEY_MAX_DEPTH = 16;

export interface FolderSurvey {
  /** Bytes of every regular file in the folder, at any depth (the FILES_MAX_TOTAL_BYTES measure). */
  totalBytes: number;
  /** Entries found (files, folders, links), the adapter's own excepted. */
  entries: number;
  /** The survey stopped at SURVEY_MAX_ENTRIES or SURVEY_MAX_DEPTH: totals are a floor. */
  truncated: boolean;
  /** Entries whose mode was widened. */
  normalised: number;
  /**
   * Each folder's mtime (the root's and every subfolder's), taken before it was read: a job
   * that adds, removes or renames an entry anywhere changes one of them (see foldersUnchanged).
   * NaN for a stamp too close to the survey to trust: file-system clocks are coarse, and a
   * job writing in the same tick would leave the same stamp.
   */
  folderStamps: Map<string, number>;
}

/** Stamps this close to the survey may hide a change made in the same clock tick. */
const RACY_STAMP_MS = 100;

export interface SurveyOptions {
  /** Top-level names that belong to the adapter and are neither counted nor changed. */
  skip: ReadonlySet<string>;
  /** Widen modes so the next job's uid can use what this one's left (shared engines). */
  normalise: boolean;
}

// O_NOFOLLOW: a link a job planted must never lead the adapter (root in the image) to chmod
// or read what it points at. O_NONBLOCK: a file swapped for a FIFO must not hang the open.
const OPEN_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const OPEN_FOLDER = OPEN_FILE | constants.O_DIRECTORY;

/**
 * Walks the session folder once: sums its bytes and, for engines whose jobs write it directly,
 * widens modes so files stay usable. Why widen after each job rather than set a default ACL
 * or a shared group: each pre-isolate Piston job runs as the next runner uid (1001..1500) with
 * umask 022 (contract section 5), so what one job creates is 0644/0755 and owned by a uid the
 * next job does not have; Node cannot set a default ACL without a native module. The adapter
 * (root in the image) owns the fix: files 0666, folders 0777, no sticky bit, so any later
 * job, and the file routes, can read, change and delete them.
 *
 * Only entries with one link are changed: a hard link a job made to a file elsewhere (with
 * protected_hardlinks off) would otherwise hand that file to every uid. Links are not followed.
 */
export async function surveyFolder(root: string, options: SurveyOptions): Promise<FolderSurvey> {
  const survey: FolderSurvey = {
    totalBytes: 0,
    entries: 0,
    truncated: false,
    normalised: 0,
    folderStamps: new Map(),
  };
  const started = Date.now();
  try {
    survey.folderStamps.set(root, (await lstat(root)).mtimeMs);
  } catch (error) {
    if (!isGone(error)) throw error;
  }
  await walk(root, 0, true, survey, options);
  for (const [folder, stamp] of survey.folderStamps) {
    if (stamp >= started - RACY_STAMP_MS) survey.folderStamps.set(folder, Number.NaN);
  }
  return survey;
}

/**
 * True when no folder the last survey saw has changed: no entry was added, removed or
 * renamed anywhere, so nothing new needs its mode widened and the listing is the same. One
 * lstat per folder (usually one), instead of one per file. Files grown in place are not
 * seen: the next full survey counts them (FileStore runs one at least every second).
 */
export async function foldersUnchanged(stamps: ReadonlyMap<string, number>): Promise<boolean> {
  if (stamps.size === 0) return false;
  let checked = 0;
  for (const [folder, stamp] of stamps) {
    if (Number.isNaN(stamp)) return false;
    try {
      // The usual session has one folder: a sync lstat is a few microseconds, where each
      // promise-based fs call costs tens of them on the event loop (a thread-pool round trip)
      // on every execution. Past the first few, the loop is let go between checks.
      const stats = checked < SYNC_STAMP_CHECKS ? lstatSync(folder) : await lstat(folder);
      if (stats.mtimeMs !== stamp) return false;
    } catch {
      return false;
    }
    checked += 1;
  }
  return true;
}

/** How many folders foldersUnchanged checks without yielding. */
const SYNC_STAMP_CHECKS = 64;

async function walk(
  folder: string,
  depth: number,
  top: boolean,
  survey: FolderSurvey,
  options: SurveyOptions,
): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isGone(error)) return;
    throw error;
  }
  for (const entry of entries) {
    if (top && options.skip.has(entry.name)) continue;
    if (survey.entries >= SURVEY_MAX_ENTRIES) {
      survey.truncated = true;
      return;
    }
    survey.entries += 1;
    const full = path.join(folder, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (!entry.isFile() && !entry.isDirectory()) continue; // FIFOs, sockets: nothing to count
    let stats: Stats;
    try {
      stats = await lstat(full);
    } catch (error) {
      if (isGone(error)) continue; // deleted meanwhile by a job still running
      throw error;
    }
    if (stats.isFile()) {
      survey.totalBytes += stats.size;
      if (options.normalise && stats.nlink === 1 && (stats.mode & 0o7777) !== SHARED_FILE_MODE) {
        if (await widen(full, OPEN_FILE, stats, SHARED_FILE_MODE)) survey.normalised += 1;
      }
    } else if (stats.isDirectory()) {
      survey.folderStamps.set(full, stats.mtimeMs);
      if (options.normalise && (stats.mode & 0o7777) !== SHARED_FOLDER_MODE) {
        if (await widen(full, OPEN_FOLDER, stats, SHARED_FOLDER_MODE)) survey.normalised += 1;
      }
      if (depth + 1 >= SURVEY_MAX_DEPTH) {
        survey.truncated = true;
        continue;
      }
      await walk(full, depth + 1, false, survey, options);
    }
  }
}

/**
 * chmod through a descriptor opened without following links, after checking it is still the
 * entry the survey saw: a job running meanwhile cannot swap in a link between look and change.
 */
async function widen(full: string, flags: number, seen: Stats, mode: number): Promise<boolean> {
  let handle;
  try {
    handle = await open(full, flags);
  } catch (error) {
    if (isGone(error) || isRefused(error)) return false;
    throw error;
  }
  try {
    const now = await handle.stat();
    if (now.ino !== seen.ino || now.dev !== seen.dev) return false;
    if (now.isFile() && now.nlink !== 1) return false;
    await handle.chmod(mode);
    return true;
  } catch (error) {
    // Not ours to change (the adapter runs without root outside the image): leave it.
    if (isRefused(error)) return false;
    throw error;
  } finally {
    await handle.close();
  }
}

function isGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // ELOOP: the entry became a link (O_NOFOLLOW); ENXIO: a FIFO with no writer.
  return code === 'EPERM' || code === 'EACCES' || code === 'ELOOP' || code === 'ENXIO';
}
