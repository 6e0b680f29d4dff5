import { AdapterError, type ErrorSource } from './adapterError';

/** One kind of answer the adapter gives instead of a result. */
interface ErrorRow<P> {
  status: number;
  source: ErrorSource;
  /** Sent as Retry-After: how long a client should wait before trying again. */
  retryAfterSeconds?: number;
  /** One line for the README's table of errors. */
  summary: string;
  message: (params: P) => string;
  /** What the body carries beside code, message and source; default: the params themselves. */
  details?: (params: P) => Record<string, unknown>;
  /** Headers beside Retry-After (405's Allow). */
  headers?: (params: P) => Record<string, string>;
}

type NoParams = Record<string, never>;

function row<P extends object = NoParams>(definition: ErrorRow<P>): ErrorRow<P> {
  return definition;
}

const none = () => ({});

interface LargestFile {
  name: string;
  bytes: number;
}

function largestList(largest: LargestFile[]): string {
  return largest.map((file) => `${file.name} (${file.bytes} bytes)`).join(', ');
}

/**
 * Every error code the adapter answers with: status, who answered, retry advice and message,
 * in one place. Routes, domain code and the passthrough all raise from here (through
 * `errors.<code>(params)`); the HTTP error middleware is the only place that renders them.
 * The README's "Error codes" table is generated from this one (a test keeps them equal).
 */
export const ERROR_TABLE = {
  // --- the request itself -------------------------------------------------------------------
  route_not_found: row<{ method: string; path: string; routes: string[] }>({
    status: 404,
    source: 'adapter',
    summary: 'no route for this method and path; the answer lists the routes',
    message: (p) => `no route for ${p.method} ${p.path} on this adapter`,
  }),
  method_not_allowed: row<{ method: string; path: string; allowed: string[] }>({
    status: 405,
    source: 'adapter',
    summary: 'a known path with another method; `Allow` names the methods',
    message: (p) => `${p.method} is not allowed on ${p.path}; use ${p.allowed.join(' or ')}`,
    headers: (p) => ({ allow: p.allowed.join(', ') }),
  }),
  invalid_json: row<{ parserMessage: string }>({
    status: 400,
    source: 'adapter',
    summary: 'the body is not valid JSON',
    message: (p) => `request body is not valid JSON: ${p.parserMessage}`,
    details: none,
  }),
  invalid_identifier: row<{ reason: string; rule: string }>({
    status: 400,
    source: 'adapter',
    summary:
      'an `identifier` a session pool would refuse (empty, too long, odd characters, given twice)',
    message: (p) =>
      `invalid session identifier: ${p.reason} (the rule: ${p.rule}, given at most once)`,
  }),
  invalid_request: row<{ message: string; field: string | null }>({
    status: 400,
    source: 'adapter',
    summary: 'a field of the body is missing or wrong; `field` names it',
    message: (p) => p.message,
    details: (p) => (p.field === null ? {} : { field: p.field }),
  }),
  unsupported_media_type: row<{ expected: string; received: string }>({
    status: 415,
    source: 'adapter',
    summary: 'the body is not of the content type the route reads',
    message: (p) => `${p.expected} (received content-type: ${p.received})`,
    details: none,
  }),
  unsupported_encoding: row<{ message: string }>({
    status: 415,
    source: 'adapter',
    summary: 'a content encoding or charset the adapter cannot read',
    message: (p) => p.message,
    details: none,
  }),
  body_too_large: row<{ limit: number | undefined }>({
    status: 413,
    source: 'adapter',
    summary: 'the body is over `BODY_LIMIT_BYTES` (counted decompressed, while it streams)',
    message: (p) => `request body is larger than the adapter's limit of ${p.limit} bytes`,
  }),
  request_aborted: row<{ what: string }>({
    status: 400,
    source: 'adapter',
    summary: 'the client stopped sending the body',
    message: (p) => `the client aborted the ${p.what}`,
    details: none,
  }),
  invalid_content_length: row<{ message: string }>({
    status: 400,
    source: 'adapter',
    summary: '`Content-Length` does not match the body',
    message: (p) => p.message,
    details: none,
  }),
  bad_request: row<{ message: string }>({
    status: 400,
    source: 'adapter',
    summary: 'another malformed request (the status is the one express gives, 4xx)',
    message: (p) => p.message,
    details: none,
  }),
  request_timeout: row({
    status: 408,
    source: 'adapter',
    summary: 'headers or body did not arrive within `HEADERS_TIMEOUT_MS` / `REQUEST_TIMEOUT_MS`',
    message: () =>
      'the request (headers, or headers and body) did not arrive in time; the connection is closed',
  }),
  headers_too_large: row({
    status: 431,
    source: 'adapter',
    summary: 'the request headers are too large',
    message: () => 'the request headers are too large',
  }),
  chunk_extensions_too_large: row({
    status: 413,
    source: 'adapter',
    summary: 'chunked encoding with oversized chunk extensions',
    message: () => 'chunk extensions are too large',
  }),
  malformed_request: row<{ parserCode: string }>({
    status: 400,
    source: 'adapter',
    summary: 'not valid HTTP/1.1',
    message: (p) => `the request is not valid HTTP/1.1 (${p.parserCode})`,
    details: none,
  }),
  client_closed_request: row<{ message: string }>({
    status: 499,
    source: 'adapter',
    summary: 'the client went away before its answer (logged, never seen by that client)',
    message: (p) => p.message,
    details: none,
  }),

  // --- languages and executions -------------------------------------------------------------
  unknown_language: row<{ language: string; available: string[] }>({
    status: 404,
    source: 'adapter',
    summary: 'no installed runtime has this name or alias; `available` lists them',
    message: (p) =>
      `language "${p.language}" is not installed in the engine; available: ${p.available.join(', ') || 'none'}`,
  }),
  unknown_version: row<{ language: string; version: string | undefined; available: string[] }>({
    status: 404,
    source: 'adapter',
    summary: 'the language is installed, but no version matches',
    message: (p) =>
      `${p.language} has no version matching "${p.version}"; installed: ${p.available.join(', ')}`,
  }),
  execution_not_found: row<{ id: string; identifier: string | undefined; kept: number }>({
    status: 404,
    source: 'adapter',
    summary: 'no kept execution with this id for this identifier',
    message: (p) =>
      `no execution "${p.id}" for identifier ${p.identifier === undefined ? '(none)' : `"${p.identifier}"`}; the adapter keeps the last ${p.kept} executions`,
    details: none,
  }),
  engine_body_limit: row<{
    what: string;
    size: number;
    limit: number;
    largest: LargestFile[];
    advice: string | null;
  }>({
    status: 413,
    source: 'adapter',
    summary:
      "what one execution carries is over the engine's body limit (`ENGINE_BODY_LIMIT_BYTES`)",
    message: (p) =>
      `${p.what} come to ${p.size} bytes, over the engine's limit of ${p.limit} bytes for one execution (code, stdin and files together); largest: ${largestList(p.largest)}${p.advice === null ? '' : `; ${p.advice}`}`,
    details: (p) => ({ size: p.size, limit: p.limit, largest: p.largest }),
  }),
  package_management_disabled: row<{ method: string; path: string }>({
    status: 403,
    source: 'adapter',
    summary: '`/api/v2/packages` is off unless `ALLOW_PACKAGE_MANAGEMENT=true`',
    message: (p) =>
      `${p.method} ${p.path} is disabled: runtimes are fixed when the image is built (set ALLOW_PACKAGE_MANAGEMENT=true to allow it)`,
    details: none,
  }),

  // --- capacity -----------------------------------------------------------------------------
  queue_full: row<{ maxInFlight: number; queueMax: number; inFlight: number; queued: number }>({
    status: 429,
    source: 'adapter',
    retryAfterSeconds: 1,
    summary: 'every execution slot is busy and `QUEUE_MAX` executions already wait',
    message: (p) =>
      `all ${p.maxInFlight} execution slots are busy and ${p.queued} executions are already waiting; retry shortly`,
  }),
  queue_timeout: row<{ maxInFlight: number; queueWaitMs: number }>({
    status: 503,
    source: 'adapter',
    retryAfterSeconds: 2,
    summary: 'waited `QUEUE_WAIT_MS` without getting an execution slot',
    message: (p) =>
      `waited ${p.queueWaitMs} ms for one of ${p.maxInFlight} execution slots, all busy with earlier executions; retry shortly`,
  }),

  // --- the engine ---------------------------------------------------------------------------
  engine_not_ready: row<EngineStateParams>({
    status: 503,
    source: 'adapter',
    retryAfterSeconds: 2,
    summary:
      'the engine is starting, restarting or degraded; the answer says why (10 s retry when degraded)',
    message: (p) => `the engine is ${p.engineState}: ${p.reason ?? 'no reason recorded'}`,
    details: engineStateDetails,
  }),
  shutting_down: row<EngineStateParams>({
    status: 503,
    source: 'adapter',
    retryAfterSeconds: 2,
    summary: 'the adapter is draining after SIGTERM',
    message: (p) => `the engine is ${p.engineState}: ${p.reason ?? 'no reason recorded'}`,
    details: engineStateDetails,
  }),
  engine_unhealthy: row<{ message: string; engineState: string; cause: string }>({
    status: 503,
    source: 'adapter',
    retryAfterSeconds: 2,
    summary: '`/health` only: the engine did not answer its probe',
    message: (p) => `the engine did not answer GET /api/v2/runtimes: ${p.message}`,
    details: (p) => ({ engineState: p.engineState, cause: p.cause }),
  }),
  engine_unavailable: row<{ message: string }>({
    status: 503,
    source: 'adapter',
    retryAfterSeconds: 2,
    summary: 'nothing accepted the connection to the engine',
    message: (p) => p.message,
    details: none,
  }),
  engine_connection_lost: row<{ message: string }>({
    status: 502,
    source: 'adapter',
    summary: 'the engine dropped the connection mid-request (it died or was restarted)',
    message: (p) => p.message,
    details: none,
  }),
  engine_timeout: row<{ message: string }>({
    status: 504,
    source: 'adapter',
    summary: 'no answer from the engine within the run timeout plus `ENGINE_DEADLINE_MARGIN_MS`',
    message: (p) => p.message,
    details: none,
  }),
  engine_bad_response: row<{ message: string }>({
    status: 502,
    source: 'adapter',
    summary: 'the engine answered something that is not its API',
    message: (p) => p.message,
    details: none,
  }),
  engine_rejected_request: row<{ message: string; engineStatus: number }>({
    status: 400,
    source: 'engine',
    summary: 'the engine refused the request with a 4xx; its reason is passed on',
    message: (p) => `the engine rejected the request: ${p.message}`,
    details: (p) => ({ engineStatus: p.engineStatus }),
  }),
  engine_error: row<{ message: string; engineStatus: number }>({
    status: 502,
    source: 'engine',
    summary: 'the engine failed with a 5xx',
    message: (p) => `the engine failed with status ${p.engineStatus}: ${p.message}`,
    details: (p) => ({ engineStatus: p.engineStatus }),
  }),
  engine_empty_error: row<{ engineStatus: number; execute: boolean }>({
    // Only through the passthrough, which keeps the engine's status (Piston's is 500): the
    // adapter's own routes refuse those requests before the engine.
    status: 500,
    source: 'engine',
    summary:
      'through /api/v2/*: the engine answered an error with an empty body (its status is kept)',
    message: (p) =>
      `the engine answered ${p.engineStatus} with an empty body` +
      (p.execute
        ? '. Piston v3 does this when it cannot set the job up: a file name it cannot write ' +
          "('.', '..', a path out of the job folder, a trailing '/'), or a NUL byte in args. " +
          "Check the request's files and args"
        : ', and says why only in its log'),
    details: (p) => ({ engineStatus: p.engineStatus }),
  }),

  // --- session files ------------------------------------------------------------------------
  file_not_found: row<{ name: string; identifier: string | undefined; files: string[] }>({
    status: 404,
    source: 'adapter',
    summary: 'no such file in the session; `files` lists what it holds',
    message: (p) =>
      `no file "${p.name}" in ${p.identifier === undefined ? 'the default session' : `session "${p.identifier}"`}; ${p.files.length === 0 ? 'it has no files' : `its files: ${p.files.join(', ')}`}`,
    details: (p) => ({ name: p.name, identifier: p.identifier ?? null, files: p.files }),
  }),
  invalid_file_name: row<{ shown: string; name: string | null; reason: string }>({
    status: 400,
    source: 'adapter',
    summary:
      'a file name that could escape or hide in the session folder; `reason` says which rule',
    message: (p) => `invalid file name ${p.shown}: ${p.reason}`,
    details: (p) => ({ name: p.name, reason: p.reason }),
  }),
  file_too_large: row<{ name: string; limit: number; setting: 'FILE_MAX_BYTES' }>({
    status: 413,
    source: 'adapter',
    summary: 'one file over `FILE_MAX_BYTES`',
    message: (p) =>
      `file "${p.name}" is larger than the limit of ${p.limit} bytes per file (FILE_MAX_BYTES)`,
  }),
  too_many_files: row<{ name: string; count: number; limit: number; setting: 'FILES_MAX_COUNT' }>({
    status: 413,
    source: 'adapter',
    summary: 'the session already holds `FILES_MAX_COUNT` files',
    message: (p) =>
      `cannot add "${p.name}": the session already holds ${p.count} files, the limit (FILES_MAX_COUNT is ${p.limit}); delete one first`,
  }),
  session_files_too_large: row<{
    name: string;
    size: number;
    total: number;
    limit: number;
    setting: 'FILES_MAX_TOTAL_BYTES';
  }>({
    status: 413,
    source: 'adapter',
    summary: "the session's files would pass `FILES_MAX_TOTAL_BYTES`",
    message: (p) =>
      `cannot store "${p.name}" (${p.size} bytes): the session folder would come to ${p.total} bytes (uploads and what code wrote), over the limit of ${p.limit} bytes (FILES_MAX_TOTAL_BYTES)`,
  }),
  file_name_is_a_folder: row<{ name: string }>({
    status: 409,
    source: 'adapter',
    summary: 'code made a folder where the upload would land; an upload never replaces a folder',
    message: (p) =>
      `cannot store "${p.name}": the session folder holds a folder of that name (made by code); remove it first`,
  }),
  upload_replaced: row<{ name: string }>({
    status: 409,
    source: 'adapter',
    summary: 'code running in the session removed or replaced an upload while it was stored',
    message: (p) =>
      `cannot store "${p.name}": while it was being stored, code in the session removed or replaced it; upload it again`,
  }),
  session_belongs_to_another_identifier: row({
    status: 409,
    source: 'adapter',
    summary: "the container's one session holds another identifier's files (never named)",
    message: () =>
      "this container's session holds another identifier's files: one container is one session, and a session pool gives each identifier its own container (to try many sessions locally, run `npm run pool`); it is free again once that session ends (DELETE /session) or its files are deleted",
  }),
  upload_exceeds_engine_body: row<{
    name: string;
    size: number;
    encoded: number;
    limit: number;
    setting: 'ENGINE_BODY_LIMIT_BYTES';
  }>({
    status: 413,
    source: 'adapter',
    summary:
      "an engine that cannot see the container's files gets them in every request: an upload that would not fit its body limit",
    message: (p) =>
      `cannot store "${p.name}" (${p.size} bytes): this engine cannot see the container's files, so they travel base64-encoded in each request, and the session's would come to ${p.encoded} bytes, over the engine's body limit of ${p.limit} bytes (ENGINE_BODY_LIMIT_BYTES); delete files the code does not need (DELETE /files/{name})`,
  }),
  missing_file: row<{ field: string; received: string[] }>({
    status: 400,
    source: 'adapter',
    summary: 'the multipart body has no file in field `file`',
    message: (p) =>
      `the multipart body has no file in field "${p.field}" (file fields received: ${p.received.length === 0 ? 'none' : p.received.join(', ')})`,
  }),
  one_file_per_upload: row<{ field: string }>({
    status: 400,
    source: 'adapter',
    summary: 'field `file` came more than once',
    message: (p) => `send one file per upload; field "${p.field}" came more than once`,
    details: none,
  }),
  invalid_multipart: row<{ message: string }>({
    status: 400,
    source: 'adapter',
    summary: 'the multipart body cannot be parsed',
    message: (p) => `the multipart body cannot be read: ${p.message}`,
    details: none,
  }),

  // --- the adapter itself -------------------------------------------------------------------
  internal_error: row<{ message: string }>({
    status: 500,
    source: 'adapter',
    summary: 'a bug in the adapter (logged with its stack)',
    message: (p) => `the adapter failed unexpectedly: ${p.message}`,
    details: none,
  }),
};

interface EngineStateParams {
  engineState: string;
  reason: string | null | undefined;
  restarts: number;
  lastExit: unknown;
}

function engineStateDetails(p: EngineStateParams): Record<string, unknown> {
  return { engineState: p.engineState, restarts: p.restarts, lastExit: p.lastExit };
}

export type ErrorCode = keyof typeof ERROR_TABLE;
type ParamsOf<C extends ErrorCode> = (typeof ERROR_TABLE)[C] extends ErrorRow<infer P> ? P : never;

/** What a raise site may change of its row: only what the situation decides. */
export interface ErrorOverrides {
  /** bad_request: express's own 4xx status. */
  status?: number;
  retryAfterSeconds?: number;
}

function build<C extends ErrorCode>(
  code: C,
  params: ParamsOf<C>,
  overrides: ErrorOverrides = {},
): AdapterError {
  const definition = ERROR_TABLE[code] as ErrorRow<ParamsOf<C>>;
  const headers = definition.headers?.(params) ?? {};
  const retryAfter = overrides.retryAfterSeconds ?? definition.retryAfterSeconds;
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return new AdapterError(
    overrides.status ?? definition.status,
    code,
    definition.message(params),
    definition.details ? definition.details(params) : { ...(params as object) },
    headers,
    definition.source,
  );
}

type Factories = {
  [C in ErrorCode]: (params: ParamsOf<C>, overrides?: ErrorOverrides) => AdapterError;
};

/** One small factory per row: `throw errors.queue_full({...})`. */
export const errors = Object.fromEntries(
  (Object.keys(ERROR_TABLE) as ErrorCode[]).map((code) => [
    code,
    (params: never, overrides?: ErrorOverrides) => build(code, params, overrides),
  ]),
) as unknown as Factories;

/** The README's table of error codes, as markdown rows. */
export function errorTableMarkdown(): string {
  const lines = [
    '| Code | Status | Source | Retry-After | When |',
    '| ---- | ------ | ------ | ----------- | ---- |',
  ];
  for (const [code, definition] of Object.entries(ERROR_TABLE) as [string, ErrorRow<never>][]) {
    const retry =
      definition.retryAfterSeconds === undefined ? '' : `${definition.retryAfterSeconds} s`;
    lines.push(
      `| \`${code}\` | ${definition.status} | ${definition.source} | ${retry} | ${definition.summary} |`,
    );
  }
  return lines.join('\n');
}
