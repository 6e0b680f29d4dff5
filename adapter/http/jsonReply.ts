import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * A JSON answer in one write, with the headers express's res.json gives it. The execute routes
 * answer through here: res.json parses and re-formats its content type on every call, which
 * is a fair share of a hop that runs mostly cold (a session sends few requests).
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
