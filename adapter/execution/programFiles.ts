import type { PistonFile } from '../piston/types';

export interface EntryFile {
  /** The name the code should have, or undefined for the engine's default. */
  name: string | undefined;
  content: string;
}

/**
 * The files of one engine job, in the order the engine needs: the entry point first (Piston
 * runs the first utf8 file), then the session's uploaded files, then files sent with the
 * request. A request file replaces an upload of the same name: it is the newer intent. The
 * entry point never overwrites a file the caller gave: when its name is taken it gets another,
 * so code can upload `main.py` and still read it.
 */
export function assembleProgramFiles(
  entry: EntryFile,
  sessionFiles: readonly PistonFile[],
  requestFiles: readonly PistonFile[],
): PistonFile[] {
  const requested = new Set(requestFiles.map((file) => file.name));
  const others = [...sessionFiles.filter((file) => !requested.has(file.name)), ...requestFiles];
  const taken = new Set(others.map((file) => file.name).filter((name) => name !== undefined));
  const name = entry.name === undefined ? undefined : freeName(entry.name, taken);
  return [{ ...(name !== undefined && { name }), content: entry.content }, ...others];
}

/** main.py, then code.py, code_2.py, ...: the first name nobody else uses. */
function freeName(preferred: string, taken: ReadonlySet<string>): string {
  if (!taken.has(preferred)) return preferred;
  const dot = preferred.lastIndexOf('.');
  const stem = dot > 0 ? preferred.slice(0, dot) : preferred;
  const extension = dot > 0 ? preferred.slice(dot) : '';
  const base = stem.startsWith('.') ? `${stem}_code` : 'code';
  for (let index = 1; ; index += 1) {
    const candidate = `${base}${index === 1 ? '' : `_${index}`}${extension}`;
    if (!taken.has(candidate)) return candidate;
  }
}
