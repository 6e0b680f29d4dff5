import busboy from 'busboy';
import { constants, createWriteStream, openSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AdapterError } from '../errors/adapterError';
import { errors } from '../errors/errorTable';
import { fileTooLarge } from './fileErrors';

const CREATE_STAGED =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface UploadOptions {
  /** The multipart field that carries the file (Azure's clients all use "file"). */
  field: string;
  maxFileBytes: number;
  /** Checks and cleans the client's filename before a byte is written; throws to refuse. */
  nameOf: (filename: string | undefined) => string;
  /**
   * A fresh path in an existing folder to stream the bytes to; the caller moves it into
   * place. Known up front so the file stream is piped the moment it appears: an error on it
   * before that would find no listener.
   */
  tempPath: string;
}

export interface ReceivedUpload {
  name: string;
  tempPath: string;
  size: number;
}

interface UploadState {
  write?: Promise<ReceivedUpload>;
  /** A refusal decided while the body still streams; answered once it has been read. */
  refusal?: unknown;
  /** A disk error, which outranks the parse failure it causes. */
  diskFailure?: unknown;
  fileFields: string[];
}

/**
 * Reads a multipart/form-data upload of one file, streaming it to disk while the size limit
 * is enforced, never holding the file in memory. Resolves once the whole body has been read,
 * with the bytes in a temporary file; every refusal removes what was written.
 */
export async function receiveUpload(
  req: IncomingMessage,
  options: UploadOptions,
): Promise<ReceivedUpload> {
  if (!isMultipartFormData(req.headers['content-type'])) {
    throw errors.unsupported_media_type({
      expected: `upload a file as multipart/form-data in field "${options.field}"`,
      received: req.headers['content-type'] ?? 'none',
    });
  }
  const parser = createParser(req, options.maxFileBytes);
  const state: UploadState = { fileFields: [] };

  parser.on('file', (field: string, stream: Readable, info: busboy.FileInfo) => {
    state.fileFields.push(field);
    if (field !== options.field || state.write !== undefined || state.refusal !== undefined) {
      if (field === options.field && state.write !== undefined) {
        state.refusal ??= errors.one_file_per_upload({ field: options.field });
      }
      stream.resume(); // skipped parts must still be read for the parse to go on
      return;
    }
    let name: string;
    try {
      name = options.nameOf(info.filename);
    } catch (error) {
      state.refusal = error;
      stream.resume();
      return;
    }
    state.write = writeToDisk(name, stream, options);
    state.write.catch((error: unknown) => {
      // busboy waits forever on a file stream nobody reads any more: stop the parse.
      if (!(error instanceof AdapterError) && !parser.destroyed) {
        state.diskFailure = error;
        parser.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });

  try {
    await parse(req, parser);
  } catch (error) {
    await discard(state.write);
    throw state.diskFailure ?? error;
  }
  if (state.refusal !== undefined) {
    await discard(state.write);
    throw state.refusal;
  }
  if (state.write === undefined) {
    throw errors.missing_file({ field: options.field, received: state.fileFields });
  }
  return state.write;
}

function createParser(req: IncomingMessage, maxFileBytes: number): busboy.Busboy {
  try {
    return busboy({
      headers: req.headers,
      // Keep "/mnt/data/x.csv" and "../x" as sent: the name is checked, not silently cut.
      preservePath: true,
      // Python and JavaScript clients send UTF-8 filenames unencoded; busboy assumes latin1.
      defParamCharset: 'utf8',
      // busboy reports "limit" when a file reaches fileSize, so a file of exactly the
      // maximum would count as too large: allow one byte more and treat that as over.
      limits: { fileSize: maxFileBytes + 1 },
    });
  } catch (error) {
    throw errors.invalid_multipart({ message: messageOf(error) });
  }
}

/**
 * Feeds the request to busboy until it has read the whole body. On a failure the rest of
 * the body is drained rather than the connection cut, so the client reads the error reply.
 */
function parse(req: IncomingMessage, parser: busboy.Busboy): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.resume();
      parser.destroy();
      reject(error);
    };
    parser.once('close', () => {
      settled = true;
      resolve();
    });
    // `on`, not `once`: busboy may report again while it is destroyed, and an 'error'
    // without a listener would crash the process.
    parser.on('error', (error: unknown) =>
      fail(errors.invalid_multipart({ message: messageOf(error) })),
    );
    req.once('close', () => {
      if (!req.complete) {
        fail(errors.request_aborted({ what: 'upload' }));
      }
    });
    req.pipe(parser);
  });
}

async function writeToDisk(
  name: string,
  stream: Readable & { truncated?: boolean },
  options: UploadOptions,
): Promise<ReceivedUpload> {
  const { tempPath } = options;
  // Created here, never followed: a job can write the folder, so a link may stand in its way.
  // Opened at once (one local syscall), so the stream is piped the moment it appears.
  const file = createWriteStream(tempPath, { fd: openSync(tempPath, CREATE_STAGED, 0o600) });
  try {
    await pipeline(stream, file);
    if (stream.truncated === true) throw fileTooLarge(name, options.maxFileBytes);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  return { name, tempPath, size: file.bytesWritten };
}

/** Waits for a write to settle and removes its file, whatever the outcome. */
async function discard(write: Promise<ReceivedUpload> | undefined): Promise<void> {
  const written = await write?.catch(() => undefined);
  if (written !== undefined) await rm(written.tempPath, { force: true });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The media type alone, as express's req.is compares it: parameters and case aside. */
function isMultipartFormData(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'multipart/form-data';
}
