import type { Duplex } from 'node:stream';
import { SERVED_BY } from '../meta';
import { STATUS_CODES } from 'node:http';
import type { AdapterError } from '../errors/adapterError';
import { errors } from '../errors/errorTable';

/** After the reply, how long a client has to close its side before the socket is destroyed. */
const DESTROY_AFTER_MS = 1_000;

/**
 * Errors node:http raises before (or instead of) handing a request to express: a request line
 * or headers it cannot parse, headers too large, a client too slow to send its headers
 * (HEADERS_TIMEOUT_MS) or its body (REQUEST_TIMEOUT_MS). Node's own answer is a bare status
 * line; this one is the adapter's usual JSON error, and the connection is closed after it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const reply = replyFor(error.code);
  // Only when nothing of a response has gone out on this connection: anything else would
  // corrupt it. `_httpMessage` is the response node:http has bound to the socket, if any.
  const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (reply === null || !socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(reply.toBody());
  socket.end(
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Error'}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-served-by: ${SERVED_BY}\r\n` +
      `x-ms-error-code: ${reply.code}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
  // end() flushes the reply and half-closes; a client that never reads or never closes its
  // side must not hold the socket open.
  const timer = setTimeout(() => socket.destroy(), DESTROY_AFTER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}

function replyFor(code: string | undefined): AdapterError | null {
  switch (code) {
    // The client is gone: nobody to answer.
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errors.request_timeout({});
    case 'HPE_HEADER_OVERFLOW':
      return errors.headers_too_large({});
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return errors.chunk_extensions_too_large({});
    default:
      return errors.malformed_request({ parserCode: code ?? 'parse error' });
  }
}
