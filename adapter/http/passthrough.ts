import http from 'node:http';
import type { RequestHandler, Response } from 'express';
import {
  createProxyMiddleware,
  debugProxyErrorsPlugin,
  proxyEventsPlugin,
} from 'http-proxy-middleware';
import type { Logger } from '../logging/logger';
import { SERVED_BY } from '../meta';
import type { AdmissionGate } from '../execution/admissionGate';
import type { ExecutionService } from '../execution/executionService';
import { errors } from '../errors/errorTable';
import type { AdapterStats } from '../stats/stats';
import { sendError } from './errorHandling';
import { contextOf, identifierOf } from './requestContext';

export interface PassthroughOptions {
  engineUrl: string;
  allowPackageManagement: boolean;
  maxSockets: number;
  service: ExecutionService;
  logger: Logger;
  stats: AdapterStats;
  /** The session folder: a job through Piston's own API may read and write it like any other. */
  sessionFiles: {
    assertMayUse(identifier: string | undefined): void;
    afterExecution(identifier: string | undefined): Promise<unknown>;
  };
  /**
   * Longest silence from the engine on one call (the run timeout cap plus the margin): an
   * execution holds an engine slot, which must never wait on an engine for ever.
   */
  engineTimeoutMs: number;
}

const PASSTHROUGH_PREFIX = '/api/v2';

/**
 * /api/v2/* goes to the engine unchanged, so Piston's own clients work against port 2000.
 * The guard in front refuses package changes (a session must not alter the image's runtimes)
 * and reports an engine that is not ready in JSON instead of a proxy error page.
 */
export function passthrough(options: PassthroughOptions): {
  handler: RequestHandler;
  agent: http.Agent;
} {
  // Without a keep-alive agent the proxy opens a connection per request (p50 near 2 s at 50
  // connections on Node 20); bounded so a burst cannot exhaust the engine's sockets.
  const agent = new http.Agent({
    keepAlive: true,
    keepAliveMsecs: 1_000,
    maxSockets: options.maxSockets,
    maxFreeSockets: options.maxSockets,
    timeout: 4_000,
  });

  const guard: RequestHandler = (req, res, next) => {
    contextOf(res).route = `${PASSTHROUGH_PREFIX}/*`;
    if (isPackagesPath(req.path) && !options.allowPackageManagement) {
      // GET as well as POST/DELETE: Piston's GET /packages crashes the server when its
      // package index is unreachable, which it always is in a session without network.
      return next(errors.package_management_disabled({ method: req.method, path: req.path }));
    }
    options.service.assertEngineReady();
    if (req.method !== 'POST' || !isExecutePath(req.path)) return next();
    // Its code reaches the session folder as any execution's does: the same 409 for another
    // identifier, and the same stock-taking after (modes for the next job's uid, the cap).
    const identifier = identifierOf(req);
    options.sessionFiles.assertMayUse(identifier);
    // An execution through Piston's own API takes an engine slot like any other.
    holdSlot(options.service.gate, res).then(() => {
      res.once('close', () => {
        options.sessionFiles.afterExecution(identifier).catch((error: unknown) => {
          options.logger.warn(
            { err: error },
            'session folder survey after a passthrough job failed',
          );
        });
      });
      next();
    }, next);
  };

  const proxy = createProxyMiddleware({
    target: options.engineUrl,
    pathFilter: (path) => isPassthroughPath(path),
    agent,
    xfwd: false,
    proxyTimeout: options.engineTimeoutMs,
    // Our own error handler answers in JSON; the default plugin answers in plain text.
    ejectPlugins: true,
    plugins: [debugProxyErrorsPlugin, proxyEventsPlugin],
    on: {
      proxyReq: (proxyReq, req, res) => {
        const slot = heldSlots.get(res as Response);
        if (slot !== undefined) holdUntilEngineDone(slot, proxyReq, req, options.engineTimeoutMs);
      },
      proxyRes: (proxyRes, req, res) => {
        const status = proxyRes.statusCode ?? 0;
        if (status >= 400 && proxyRes.headers['content-length'] === '0') {
          // Piston's empty 500s say nothing; answered here, http-proxy sees the response
          // finished and neither copies the engine's headers nor pipes its (empty) body.
          // The body is the adapter's, so it says it served it.
          proxyRes.resume();
          res.setHeader('x-served-by', SERVED_BY);
          const execute =
            req.method === 'POST' && isExecutePath((req.url ?? '').split('?')[0] ?? '');
          sendError(
            res,
            errors.engine_empty_error({ engineStatus: status, execute }, { status }),
            options.stats,
          );
          return;
        }
        res.setHeader('x-served-by', `${SERVED_BY} (passthrough from engine)`);
      },
      error: (error, req, res) => {
        const code = (error as { code?: string }).code ?? 'EPROXY';
        options.logger.warn({ err: error, path: req.url }, 'passthrough to engine failed');
        if (!('writeHead' in res)) {
          res.destroy();
          return;
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const message = `passthrough to the engine failed: ${code}`;
        const failure =
          code === 'ECONNREFUSED'
            ? errors.engine_unavailable({ message })
            : errors.engine_connection_lost({ message });
        sendError(res, failure, options.stats);
      },
    },
  });

  // One path test for every request: the proxy's own middleware (async, with its own path
  // filter) runs only for /api/v2, not in front of every execution and file route.
  const handler: RequestHandler = (req, res, next) => {
    if (!isPassthroughPath(req.path)) return next();
    guard(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      proxy(req, res, next).catch(next);
    });
  };
  return { handler, agent };
}

// Case-insensitive because Piston's express router is: /API/V2/PACKAGES reaches it too.
function isPassthroughPath(path: string): boolean {
  return /^\/api\/v2(\/|$)/i.test(path);
}

function isPackagesPath(path: string): boolean {
  return /^\/api\/v2\/+packages(\/|$)/i.test(path);
}

function isExecutePath(path: string): boolean {
  return /^\/api\/v2\/+execute\/*$/i.test(path);
}

/** The slot each passthrough execution holds, until its engine call is over. */
interface HeldSlot {
  release: () => void;
  /** Set once the call to the engine has started: from then on it decides when to release. */
  atEngine: boolean;
}

const heldSlots = new WeakMap<Response, HeldSlot>();

/**
 * Waits for an engine slot and holds it until the response is over, or, once the engine has
 * the job, until the engine's call is over (holdUntilEngineDone). 'close' comes once the
 * response is done or the connection is gone, whichever way it ends, so every path releases.
 */
async function holdSlot(gate: AdmissionGate, res: Response): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  let release;
  try {
    release = await gate.admit(gone.signal);
  } finally {
    res.off('close', onClose);
  }
  // The client may have left between the grant and this line: 'close' will not come again.
  if (gone.signal.aborted) {
    release();
    throw errors.client_closed_request({ message: 'the caller went away before its turn' });
  }
  const slot: HeldSlot = { release, atEngine: false };
  heldSlots.set(res, slot);
  res.once('close', () => {
    if (!slot.atEngine) release();
  });
}

/**
 * Piston runs a job whose client left to its end (contract section 5), so the slot is held
 * until the engine's answer is over, not until the client leaves. http-proxy aborts its engine
 * request when the client goes (web-incoming.js: `req.on('aborted', ...)`); that abort is kept
 * from dropping a request the engine has whole, and the call is bounded by the engine timeout.
 */
function holdUntilEngineDone(
  slot: HeldSlot,
  proxyReq: http.ClientRequest,
  req: http.IncomingMessage,
  timeoutMs: number,
): void {
  slot.atEngine = true;
  proxyReq.once('close', slot.release);
  const abort = proxyReq.abort.bind(proxyReq);
  let bound: NodeJS.Timeout | undefined;
  proxyReq.once('close', () => clearTimeout(bound));
  proxyReq.abort = () => {
    // A body the engine has whole is a job it runs: wait for its answer. A partial one never
    // becomes a job, and an engine that does not answer in time is given up on.
    const clientLeft = req.destroyed || req.socket.destroyed;
    if (clientLeft && req.complete && bound === undefined && !proxyReq.destroyed) {
      bound = setTimeout(() => proxyReq.destroy(), timeoutMs).unref();
      return;
    }
    abort();
  };
}
