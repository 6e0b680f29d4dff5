import http from 'node:http';
import type { RequestHandler } from 'express';
import {
  createProxyMiddleware,
  debugProxyErrorsPlugin,
  proxyEventsPlugin,
} from 'http-proxy-middleware';
import type { Logger } from '../logging/logger';
import { SERVED_BY } from '../meta';
import type { ExecutionService } from '../execution/executionService';
import { HttpError } from './httpError';
import { contextOf } from './requestContext';

export interface PassthroughOptions {
  engineUrl: string;
  allowPackageManagement: boolean;
  maxSockets: number;
  service: ExecutionService;
  logger: Logger;
}

const PASSTHROUGH_PREFIX = '/api/v2';

/**
 * /api/v2/* goes to the engine unchanged, so Piston's own clients work against port 2000.
 * The guard in front refuses package changes (a session must not alter the image's runtimes)
 * and reports an engine that is not ready in JSON instead of a proxy error page.
 */
export function passthrough(options: PassthroughOptions): {
  handlers: RequestHandler[];
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
    if (!isPassthroughPath(req.path)) return next();
    contextOf(res).route = `${PASSTHROUGH_PREFIX}/*`;
    if (isPackagesPath(req.path) && !options.allowPackageManagement) {
      // GET as well as POST/DELETE: Piston's GET /packages crashes the server when its
      // package index is unreachable, which it always is in a session without network.
      return next(
        new HttpError(
          403,
          'package_management_disabled',
          `${req.method} ${req.path} is disabled: runtimes are fixed when the image is built (set ALLOW_PACKAGE_MANAGEMENT=true to allow it)`,
        ),
      );
    }
    options.service.assertEngineReady();
    next();
  };

  const proxy = createProxyMiddleware({
    target: options.engineUrl,
    pathFilter: (path) => isPassthroughPath(path),
    agent,
    xfwd: false,
    proxyTimeout: 0,
    // Our own error handler answers in JSON; the default plugin answers in plain text.
    ejectPlugins: true,
    plugins: [debugProxyErrorsPlugin, proxyEventsPlugin],
    on: {
      proxyRes: (_proxyRes, _req, res) => {
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
        const unreachable = code === 'ECONNREFUSED';
        const body = new HttpError(
          unreachable ? 503 : 502,
          unreachable ? 'engine_unavailable' : 'engine_connection_lost',
          `passthrough to the engine failed: ${code}`,
        ).toBody();
        res.writeHead(unreachable ? 503 : 502, {
          'content-type': 'application/json; charset=utf-8',
          'x-served-by': SERVED_BY,
        });
        res.end(JSON.stringify(body));
      },
    },
  });

  return { handlers: [guard, proxy as unknown as RequestHandler], agent };
}

// Case-insensitive because Piston's express router is: /API/V2/PACKAGES reaches it too.
function isPassthroughPath(path: string): boolean {
  return /^\/api\/v2(\/|$)/i.test(path);
}

function isPackagesPath(path: string): boolean {
  return /^\/api\/v2\/+packages(\/|$)/i.test(path);
}
