import express, { type Request, type RequestHandler, type Router } from 'express';
import { parseExecuteBody, RequestValidationError } from '../../azure/executeRequest';
import { toAzureExecuteResponse } from '../../azure/executeResponse';
import type { ExecutionService } from '../../execution/executionService';
import type { AdapterStats } from '../../stats/stats';
import { HttpError } from '../httpError';
import { contextOf } from '../requestContext';

export interface ExecuteRouteOptions {
  service: ExecutionService;
  stats: AdapterStats;
  defaultLanguage: string;
  bodyLimitBytes: number;
}

/**
 * POST /:lang/execute for any language or alias the engine lists, and POST /code/execute and
 * POST /execute for the default language, as Azure's built-in code interpreter answers them.
 */
export function executeRoutes(options: ExecuteRouteOptions): Router {
  const router = express.Router();
  const body = jsonBody(options.bodyLimitBytes);
  const handle = (languageOf: (req: Request) => string) =>
    executeHandler(options.service, options.stats, languageOf);
  const defaultLanguage = () => options.defaultLanguage;

  router.post('/code/execute', body, handle(defaultLanguage));
  router.post('/execute', body, handle(defaultLanguage));
  router.post(
    '/:lang/execute',
    body,
    handle((req) => String(req.params['lang'])),
  );
  return router;
}

/** JSON only; body-parser enforces the limit while the body streams in, not after. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (req.is('application/json') || req.is('+json')) return next();
    const received = req.headers['content-type'] ?? 'none';
    next(
      new HttpError(
        415,
        'unsupported_media_type',
        `request body must be application/json (received content-type: ${received})`,
      ),
    );
  };
  return [requireJson, express.json({ limit: limitBytes, strict: false })];
}

function executeHandler(
  service: ExecutionService,
  stats: AdapterStats,
  languageOf: (req: Request) => string,
): RequestHandler {
  return async (req, res) => {
    const context = contextOf(res);
    const language = languageOf(req);
    context.language = language;
    let input;
    try {
      input = parseExecuteBody(req.body);
    } catch (error) {
      if (error instanceof RequestValidationError) {
        throw new HttpError(400, 'invalid_request', error.message, {
          ...(error.field !== null && { field: error.field }),
        });
      }
      throw error;
    }
    const clientGone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) clientGone.abort();
    };
    res.once('close', onClose);
    try {
      const { outcome, runtime } = await service.execute(language, input, {
        signal: clientGone.signal,
      });
      context.language = runtime.language;
      stats.recordExecution(runtime.language);
      res.status(200).json(toAzureExecuteResponse(outcome));
    } finally {
      res.off('close', onClose);
    }
  };
}
