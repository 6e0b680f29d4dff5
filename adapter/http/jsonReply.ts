import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * A JSON answer in one write, with the headers express's res.json gives it. Errors and the
 * execute routes answer through here: res.json parses and re-formats its content type on every
 * call, work an answer whose type is always the same need not do.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
