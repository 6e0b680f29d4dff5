/**
 * Forwards a request to its session as the real pool does: method, path and query byte for
 * byte (undici sends `req.url` as given; http-proxy would fold `//` in paths such as
 * `/files/content//mnt/data/x.csv`), body and response streamed, one keep-alive connection
 * pool per session.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { Pool } from 'undici';
import type { Logger } from '../../adapter/logging/logger';
import { identifierOf } from './identifier';
import { PoolError } from './poolErrors';
import type { Lease, SessionPool } from './sessionPool';

/**
 * Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, not the request. `expect` is
 * answered here (Node sends 100 Continue itself). `authorization` carries the caller's token
 * for the pool; the pool keeps it, and the container must not need it.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'authorization',
]);
const NOT_RETURNED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'trailer',
  'upgrade',
]);

export class Forwarder {
  private readonly pools = new Map<number, Pool>();

  constructor(private readonly logger: Logger) {}

  /** Streams `req` to the session on `port` and its answer back; 502 if it cannot. */
  async forward(req: Request, res: Response, port: number, identifier: string): Promise<void> {
    const abort = new AbortController();
    // The caller left: stop the session's work on its behalf too.
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);
    try {
      await this.poolFor(port).stream(
        {
          path: req.url,
          method: req.method,
          headers: pick(req.headers, withConnectionTokens(req.headers, NOT_FORWARDED)),
          body: hasBody(req) ? req : null,
          signal: abort.signal,
        },
        ({ statusCode, headers }) => {
          res.writeHead(statusCode, pick(headers, withConnectionTokens(headers, NOT_RETURNED)));
          return res;
        },
      );
    } catch (error) {
      if (abort.signal.aborted) return;
      const code = (error as { code?: unknown }).code;
      this.logger.warn(
        { err: error, identifier, port, method: req.method, url: req.url },
        'forwarding to the session failed',
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      throw new PoolError(
        502,
        'SessionUnreachable',
        `the session for '${identifier}' did not answer: ${String(code ?? (error as Error).message)}`,
      );
    } finally {
      res.off('close', onClose);
    }
  }

  /** The session on `port` is gone: drop its connections, so no later request reuses one. */
  forget(port: number): void {
    const pool = this.pools.get(port);
    if (pool === undefined) return;
    this.pools.delete(port);
    void pool.destroy().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }

  private poolFor(port: number): Pool {
    let pool = this.pools.get(port);
    if (pool === undefined) {
      pool = new Pool(`http://127.0.0.1:${port}`, {
        // Under Node's default server keep-alive of 5 s, so an idle socket is never reused
        // just as the adapter closes it.
        keepAliveTimeout: 4_000,
        // The adapter bounds its own work (MAX_TIMEOUT_SECONDS plus a margin); the pool
        // invents no limit of its own.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(port, pool);
    }
    return pool;
  }
}

/** Everything but the pool's own routes: find the identifier's session and forward to it. */
export function forwardToSession(pool: SessionPool, forwarder: Forwarder): RequestHandler {
  return async (req, res) => {
    const identifier = identifierOf(req.url);
    let lease: Lease | null = null;
    let closed = false;
    // Registered before the wait: a caller who leaves while its session starts still
    // releases its hold once the session is there.
    res.once('close', () => {
      closed = true;
      lease?.release();
    });
    lease = await pool.acquire(identifier);
    if (closed) {
      lease.release();
      return;
    }
    await forwarder.forward(req, res, lease.port, identifier);
  };
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Headers the `connection` header names are hop-by-hop too (RFC 9110 7.6.1). */
function withConnectionTokens(headers: IncomingHttpHeaders, drop: Set<string>): Set<string> {
  const connection = headers.connection;
  if (connection === undefined) return drop;
  const named = connection.split(',').map((token) => token.trim().toLowerCase());
  return new Set([...drop, ...named]);
}

function pick(headers: IncomingHttpHeaders, drop: Set<string>): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !drop.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}
