import http from 'node:http';
import type { HttpReply } from './adapterProcess';

export interface SendOptions {
  headers?: http.OutgoingHttpHeaders;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  timeoutMs?: number;
}

/**
 * One HTTP request on a fresh connection (no pooled socket outlives a test), with any headers
 * and the path sent exactly as given.
 */
export function send(
  port: number,
  method: string,
  path: string,
  { headers = {}, body, timeoutMs = 15_000 }: SendOptions = {},
): Promise<HttpReply> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body);
  const payload = body === undefined ? undefined : raw ? body : JSON.stringify(body);
  const contentType = payload !== undefined && !raw ? { 'content-type': 'application/json' } : {};
  return exchange(
    {
      port,
      method,
      path,
      headers: {
        ...contentType,
        ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }),
        ...headers,
      },
      timeoutMs,
    },
    (req) => req.end(payload),
  );
}

export interface ExchangeOptions {
  /** Where to connect; 127.0.0.1 unless told. */
  host?: string;
  port: number;
  method: string;
  path: string;
  headers: http.OutgoingHttpHeaders;
  timeoutMs: number;
}

/**
 * One HTTP request on a fresh connection (no pooled socket outlives a test): `writeBody` sends
 * the body and ends the request; the answer is read whole, and the request fails if none comes
 * within `timeoutMs`.
 */
export function exchange(
  { host = '127.0.0.1', port, method, path, headers, timeoutMs }: ExchangeOptions,
  writeBody: (req: http.ClientRequest) => void,
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path, agent: false, headers, timeout: timeoutMs },
      (res) => readReply(res).then(resolve, reject),
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    writeBody(req);
  });
}

export interface HeldRequest {
  /** Sends the rest of the body and resolves with the answer. */
  finish(): Promise<HttpReply>;
}

/**
 * A request whose body is only partly sent until `finish`: it stays in flight as long as the
 * test needs, without a timer. `body` is split after its first byte.
 */
export function holdRequest(port: number, method: string, path: string, body: string): HeldRequest {
  let settle: { resolve: (reply: HttpReply) => void; reject: (error: Error) => void };
  const reply = new Promise<HttpReply>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const req = http.request(
    {
      host: '127.0.0.1',
      port,
      method,
      path,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (res) => readReply(res).then(settle.resolve, settle.reject),
  );
  req.on('error', (error) => settle.reject(error));
  req.write(body.slice(0, 1));
  return {
    finish: () => {
      req.end(body.slice(1));
      return reply;
    },
  };
}

/** The whole response, its body as text and, when it is JSON, parsed. */
function readReply(res: http.IncomingMessage): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
    });
    res.on('error', reject);
  });
}
