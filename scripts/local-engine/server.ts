/**
 * Piston's HTTP surface (API v2) on node:http, answering as its Express app does: routes are
 * case-insensitive and take one trailing slash; HEAD answers like GET without a body; OPTIONS
 * on a route lists its methods as text/html; other methods and paths get 404
 * `{"message": "Not Found"}`; under /api/v2 anything but GET, HEAD and OPTIONS must be
 * application/json (415). Packages are not managed here: /api/v2/packages is not a route.
 *
 * One route of its own, not Piston's: GET /local-engine/jobs answers the engine's job counts
 * (running, queued in its unbounded queue, and the most it ever held at once), so tests can
 * see what the engine was really asked to carry.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { readBody } from './bodyParsing';
import type { EngineConfig } from './config';
import { JobFailure, runJob, type JobContext } from './jobRunner';
import type { Log } from './log';
import { toApiRuntime, type Runtime } from './runtimes';
import { validateExecuteRequest } from './validation';

/** What Piston v3.1.1 and current master both say at `/`. */
export const PISTON_VERSION_MESSAGE = 'Piston v3.1.1';

export interface EngineServerOptions {
  config: EngineConfig;
  runtimes: readonly Runtime[];
  jobs: JobContext;
  log: Log;
}

interface Route {
  /** Methods as Express lists them for OPTIONS (GET brings HEAD). */
  methods: readonly string[];
  handle(request: RouteRequest): Promise<void> | void;
}

interface RouteRequest {
  body: unknown;
  res: ServerResponse;
  head: boolean;
}

const API_PREFIX = '/api/v2';

export function createEngineServer(options: EngineServerOptions): http.Server {
  const { config, runtimes, jobs, log } = options;

  const apiRoutes: Record<string, Route> = {
    '/execute': {
      methods: ['POST'],
      handle: async ({ body, res }) => {
        const validation = validateExecuteRequest(body, runtimes, config);
        if (!validation.ok) {
          if (validation.body === undefined) return sendEmpty(res, validation.status);
          return sendJson(res, validation.status, validation.body);
        }
        const started = performance.now();
        try {
          const reply = await runJob(validation.job, jobs);
          log.debug('job done', {
            language: reply.language,
            ms: Math.round(performance.now() - started),
            code: reply.run.code,
            signal: reply.run.signal,
          });
          sendJson(res, 200, reply);
        } catch (error) {
          // Piston logs the failure and answers 500 with an empty body (error_path_escape.json).
          const level = error instanceof JobFailure ? 'info' : 'warn';
          log[level]('job failed', { error: (error as Error).message });
          sendEmpty(res, 500);
        }
      },
    },
    '/runtimes': {
      methods: ['GET', 'HEAD'],
      handle: ({ res, head }) => sendJson(res, 200, runtimes.map(toApiRuntime), head),
    },
  };
  const appRoutes: Record<string, Route> = {
    '/local-engine/jobs': {
      methods: ['GET', 'HEAD'],
      handle: ({ res, head }) => sendJson(res, 200, jobs.slots.snapshot(), head),
    },
    '/': {
      methods: ['GET', 'HEAD'],
      handle: ({ res, head }) => sendJson(res, 200, { message: PISTON_VERSION_MESSAGE }, head),
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const parsed = await readBody(req);
    if (parsed.kind === 'error') return sendJson(res, 400, { stack: parsed.stack });

    const path = routePath(req.url ?? '/');
    let route: Route | undefined;
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
      const isRead = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
      if (!isRead && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return sendJson(res, 415, { message: 'requests must be of type application/json' });
      }
      route = apiRoutes[path.slice(API_PREFIX.length) || '/'];
    }
    route ??= appRoutes[path];

    if (route !== undefined && method === 'OPTIONS') {
      return sendText(res, 200, route.methods.join(','));
    }
    if (route === undefined || !route.methods.includes(method)) {
      return sendJson(res, 404, { message: 'Not Found' }, method === 'HEAD');
    }
    const body = parsed.kind === 'json' ? parsed.value : {};
    await route.handle({ body, res, head: method === 'HEAD' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error('request failed', { error: (error as Error).message });
      if (!res.headersSent) sendEmpty(res, 500);
      else res.destroy();
    });
  });
  // Express's defaults, which clients of Piston see.
  server.keepAliveTimeout = 5_000;
  return server;
}

/** The path Express matches: no query, lower case, without one trailing slash. */
export function routePath(url: string): string {
  const path = (url.split('?')[0] ?? '/').toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(head ? undefined : text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}
