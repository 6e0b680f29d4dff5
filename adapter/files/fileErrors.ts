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
    `cannot store "${name}" (${size} bytes): the session folder would come to ${total} bytes (uploads and what code wrote), over the limit of ${limit} bytes (FILES_MAX_TOTAL_BYTES)`,
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

/**
 * The container's one session holds another identifier's files. Never names that identifier
 * nor anything of its session: the caller learns only that this container is taken.
 */
export function sessionBelongsToAnotherIdentifier(): HttpError {
  return new HttpError(
    409,
    'session_belongs_to_another_identifier',
    "this container's session holds another identifier's files: one container is one session, and a session pool gives each identifier its own container (to try many sessions locally, run `npm run pool`); it is free again once that session ends (DELETE /session) or its files are deleted",
  );
}

/**
 * Separate mode: the files travel in every engine request, so a session that would not fit
 * the engine's body is refused at upload time, not at every execution after.
 */
export function uploadExceedsEngineBody(
  name: string,
  size: number,
  encoded: number,
  limit: number,
): HttpError {
  return new HttpError(
    413,
    'engine_body_limit',
    `cannot store "${name}" (${size} bytes): this engine cannot see the container's files, so they travel base64-encoded in each request, and the session's would come to ${encoded} bytes, over the engine's body limit of ${limit} bytes (ENGINE_BODY_LIMIT_BYTES); delete files the code does not need (DELETE /files/{name})`,
    { name, size, encoded, limit, setting: 'ENGINE_BODY_LIMIT_BYTES' },
  );
}
