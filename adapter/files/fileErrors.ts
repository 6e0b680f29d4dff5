import { HttpError } from '../http/httpError';

/** The 404 names the file and lists what the session holds, so a typo is plain at once. */
export function fileNotFound(
  name: string,
  identifier: string | undefined,
  existing: string[],
): HttpError {
  const session = identifier === undefined ? 'the default session' : `session "${identifier}"`;
  const holds = existing.length === 0 ? 'it has no files' : `its files: ${existing.join(', ')}`;
  return new HttpError(404, 'file_not_found', `no file "${name}" in ${session}; ${holds}`, {
    name,
    identifier: identifier ?? null,
    files: existing,
  });
}

export function fileTooLarge(name: string, limit: number): HttpError {
  return new HttpError(
    413,
    'file_too_large',
    `file "${name}" is larger than the limit of ${limit} bytes per file (FILE_MAX_BYTES)`,
    { name, limit, setting: 'FILE_MAX_BYTES' },
  );
}

export function tooManyFiles(name: string, count: number, limit: number): HttpError {
  return new HttpError(
    413,
    'too_many_files',
    `cannot add "${name}": the session already holds ${count} files, the limit (FILES_MAX_COUNT is ${limit}); delete one first`,
    { name, count, limit, setting: 'FILES_MAX_COUNT' },
  );
}

export function sessionFilesTooLarge(
  name: string,
  size: number,
  total: number,
  limit: number,
): HttpError {
  return new HttpError(
    413,
    'session_files_too_large',
    `cannot store "${name}" (${size} bytes): the session's files would come to ${total} bytes, over the limit of ${limit} bytes (FILES_MAX_TOTAL_BYTES)`,
    { name, size, total, limit, setting: 'FILES_MAX_TOTAL_BYTES' },
  );
}

/**
 * Files too big to travel with an execution. The shape matches the execution service's own
 * engine_body_limit answer (size, limit, largest) so clients see one kind of refusal.
 */
export function filesExceedEngineLimit(
  files: { name: string; size: number }[],
  limit: number,
): HttpError {
  const size = files.reduce((sum, file) => sum + file.size, 0);
  const largest = [...files]
    .sort((a, b) => b.size - a.size)
    .slice(0, 5)
    .map((file) => ({ name: file.name, bytes: file.size }));
  return new HttpError(
    413,
    'engine_body_limit',
    `the session's files come to ${size} bytes, over the engine's limit of ${limit} bytes for code, stdin and files together; largest: ${largest.map((f) => `${f.name} (${f.bytes} bytes)`).join(', ')}; delete files the code does not need (DELETE /files/{name})`,
    { size, limit, largest },
  );
}
