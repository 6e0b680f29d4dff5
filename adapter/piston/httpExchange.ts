import http from 'node:http';

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  /** Path and query, e.g. /api/v2/execute. */
  path: string;
  /** A JSON body; sent with its content-length. */
  body?: string;
  /** Aborting destroys the request and its connection. */
  signal?: AbortSignal;
}

export interface ExchangeResponse {
  status: number;
  text: string;
}

/**
 * One request to the engine over node:http, resolving with the whole answer as text. node:http
 * rather than undici or fetch: the adapter's ingress already loads it, and either of the other
 * two adds 15-20 MB to a process whose budget is 70 MB idle. Rejects with node's own errors
 * (ECONNREFUSED, ECONNRESET, ...), or the signal's reason when aborted.
 */
export function httpExchange(
  base: URL,
  agent: http.Agent | false,
  request: ExchangeRequest,
): Promise<ExchangeResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = request;
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const req = http.request({
      host: base.hostname,
      port: base.port,
      method: request.method,
      path: request.path,
      agent,
      headers:
        request.body === undefined
          ? {}
          : {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(request.body),
            },
    });
    const onAbort = () => req.destroy(abortError(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        settle();
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      // A connection lost mid-answer: 'aborted' on the response, then 'error' on the request.
      res.on('error', (error) => {
        settle();
        reject(error);
      });
    });
    // `on`: a socket may report more than once, and an unheard 'error' would crash the process.
    req.on('error', (error) => {
      settle();
      reject(error);
    });
    req.end(request.body);
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('the request was aborted', 'AbortError');
}
