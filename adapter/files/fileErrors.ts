import type { AdapterError } from '../errors/adapterError';
import { errors } from '../errors/errorTable';

/** The 404 names the file and lists what the session holds, so a typo is plain at once. */
export function fileNotFound(
  name: string,
  identifier: string | undefined,
  existing: string[],
): AdapterError {
  return errors.file_not_found({ name, identifier, files: existing });
}

export function fileTooLarge(name: string, limit: number): AdapterError {
  return errors.file_too_large({ name, limit, setting: 'FILE_MAX_BYTES' });
}

export function tooManyFiles(name: string, count: number, limit: number): AdapterError {
  return errors.too_many_files({ name, count, limit, setting: 'FILES_MAX_COUNT' });
}

export function sessionFilesTooLarge(
  name: string,
  size: number,
  total: number,
  limit: number,
): AdapterError {
  return errors.session_files_too_large({
    name,
    size,
    total,
    limit,
    setting: 'FILES_MAX_TOTAL_BYTES',
  });
}

/**
 * Files too big to travel with an execution. The shape matches the execution service's own
 * engine_body_limit answer (size, limit, largest) so clients see one kind of refusal.
 */
export function filesExceedEngineLimit(
  files: { name: string; size: number }[],
  limit: number,
): AdapterError {
  const size = files.reduce((sum, file) => sum + file.size, 0);
  const largest = [...files]
    .sort((a, b) => b.size - a.size)
    .slice(0, 5)
    .map((file) => ({ name: file.name, bytes: file.size }));
  return errors.engine_body_limit({
    what: "the session's files",
    size,
    limit,
    largest,
    advice: 'delete files the code does not need (DELETE /files/{name})',
  });
}

/** The session folder holds a folder (code made it) where the upload would land. */
export function fileNameIsAFolder(name: string): AdapterError {
  return errors.file_name_is_a_folder({ name });
}

/** Code in the session removed or replaced the upload while it was being stored. */
export function uploadReplaced(name: string): AdapterError {
  return errors.upload_replaced({ name });
}

/**
 * The container's one session holds another identifier's files. Never names that identifier
 * nor anything of its session: the caller learns only that this container is taken.
 */
export function sessionBelongsToAnotherIdentifier(): AdapterError {
  return errors.session_belongs_to_another_identifier({});
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
): AdapterError {
  return errors.upload_exceeds_engine_body({
    name,
    size,
    encoded,
    limit,
    setting: 'ENGINE_BODY_LIMIT_BYTES',
  });
}
