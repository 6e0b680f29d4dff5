/**
 * Request bodies as Piston's Express app reads them with body-parser (urlencoded, then json,
 * both with the 100 kB default limit) before any route runs: JSON bodies are parsed in strict
 * mode (an object or array at the top), an empty JSON body is `{}`, and every failure becomes
 * 400 `{"stack": "<error stack>"}` in Piston's error middleware. Other bodies are not read.
 */
import type { IncomingMessage } from 'node:http';

/** body-parser's default `limit: '100kb'`. */
export const BODY_LIMIT_BYTES = 100 * 1024;

export type ParsedBody =
  /** No body, or one of a type body-parser leaves alone: Express then has `req.body = {}`. */
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  /** A form body: read for the limit, never used (Piston's API answers 415 to it). */
  | { kind: 'form' }
  | { kind: 'error'; stack: string };

export async function readBody(req: IncomingMessage): Promise<ParsedBody> {
  const type = mediaType(req.headers['content-type']);
  const isJson = type === 'application/json';
  if (!hasBody(req) || (!isJson && type !== 'application/x-www-form-urlencoded')) {
    req.resume();
    return { kind: 'none' };
  }
  const raw = await readLimited(req, BODY_LIMIT_BYTES);
  if (raw === null) {
    req.resume();
    return { kind: 'error', stack: payloadTooLargeStack() };
  }
  if (!isJson) return { kind: 'form' };
  return parseJsonBody(raw.toString('utf8'));
}

/** type-is: a body exists when the request says how long it is or that it is chunked. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && !isNaN(+length))
  );
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The whole body, or null as soon as it is known to exceed `limit` bytes. */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

export function parseJsonBody(text: string): ParsedBody {
  if (text.length === 0) return { kind: 'json', value: {} };
  const first = /^[ \t\n\r]*([^ \t\n\r])/.exec(text)?.[1];
  try {
    if (first !== '{' && first !== '[') throw strictSyntaxError(text, first);
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch (error) {
    return { kind: 'error', stack: (error as Error).stack ?? String(error) };
  }
}

/**
 * body-parser's createStrictSyntaxError: JSON.parse of the text up to the offending character
 * plus '#', with the '#' in the message put back to that character. So `null` gives
 * `Unexpected token 'n', "#" is not valid JSON` (error_json_null_body.json).
 */
function strictSyntaxError(text: string, char: string | undefined): Error {
  const index = text.indexOf(String(char));
  const partial = index === -1 ? '' : `${text.substring(0, index)}#`;
  try {
    JSON.parse(partial);
    return new SyntaxError('strict violation');
  } catch (error) {
    const syntaxError = error as SyntaxError;
    const message = syntaxError.message.replace('#', String(char));
    syntaxError.stack = (syntaxError.stack ?? '').replace(syntaxError.message, message);
    syntaxError.message = message;
    return syntaxError;
  }
}

function payloadTooLargeStack(): string {
  const error = new Error('request entity too large');
  return (error.stack ?? '').replace(/^Error/, 'PayloadTooLargeError');
}
