import { randomUUID } from 'node:crypto';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { parseExecuteBody, RequestValidationError } from '../../azure/executeRequest';
import { toAzureExecuteResponse } from '../../azure/executeResponse';
import type { ExecutionOutcome } from '../../azure/executionOutcome';
import { toExecutionsResponse } from '../../azure/executionsResponse';
import type { ExecutionHistory } from '../../execution/executionHistory';
import type { ExecutionService } from '../../execution/executionService';
import type { AdapterStats } from '../../stats/stats';
import { errors } from '../../errors/errorTable';
import { sendJson } from '../jsonReply';
import { contextOf, identifierOfExecution } from '../requestContext';

export interface ExecuteRouteOptions {
  service: ExecutionService;
  stats: AdapterStats;
  history: ExecutionHistory;
  defaultLanguage: string;
  bodyLimitBytes: number;
}

/** Builds the reply body from a finished execution, in the caller's dialect. */
type Responder = (outcome: ExecutionOutcome, identifier: string | undefined) => unknown;

/**
 * Generation A: POST /:lang/execute for any language or alias the engine lists (the legacy
 * /python/execute among them), and POST /code/execute and POST /execute for the default
 * language. Generation B: POST /executions in the default language, and GET /executions/{id}
 * for recent results.
 */
export function executeRoutes(options: ExecuteRouteOptions): Router {
  const { service, stats, history } = options;
  const router = express.Router();
  const body = jsonBody(options.bodyLimitBytes);
  const defaultLanguage = () => options.defaultLanguage;
  const generationA: Responder = (outcome) => toAzureExecuteResponse(outcome);
  const generationB: Responder = (outcome, identifier) => {
    const execution = toExecutionsResponse({ id: randomUUID(), identifier, outcome });
    history.add(execution);
    return execution;
  };

  router.post('/code/execute', body, executeHandler(service, stats, defaultLanguage, generationA));
  router.post('/execute', body, executeHandler(service, stats, defaultLanguage, generationA));
  router.post('/executions', body, executeHandler(service, stats, defaultLanguage, generationB));
  router.get('/executions/:id', (req, res) => {
    const identifier = identifierOfExecution(req);
    const execution = history.find(String(req.params['id']), identifier);
    if (execution === undefined) {
      throw errors.execution_not_found({
        id: String(req.params['id']),
        identifier,
        kept: history.limit,
      });
    }
    res.status(200).json(execution);
  });
  router.post(
    '/:lang/execute',
    body,
    executeHandler(service, stats, (req) => String(req.params['lang']), generationA),
  );
  return router;
}

/** JSON only; body-parser enforces the limit while the body streams in, not after. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (req.is('application/json') || req.is('+json')) return next();
    const received = req.headers['content-type'] ?? 'none';
    next(
      errors.unsupported_media_type({
        expected: 'request body must be application/json',
        received,
      }),
    );
  };
  return [requireJson, express.json({ limit: limitBytes, strict: false })];
}

function executeHandler(
  service: ExecutionService,
  stats: AdapterStats,
  languageOf: (req: Request) => string,
  respond: Responder,
): RequestHandler {
  return async (req, res) => {
    const context = contextOf(res);
    const language = languageOf(req);
    context.language = language;
    const identifier = identifierOfExecution(req);
    context.identifier = identifier;
    let input;
    try {
      input = parseExecuteBody(req.body);
    } catch (error) {
      if (error instanceof RequestValidationError) {
        throw errors.invalid_request({ message: error.message, field: error.field });
      }
      throw error;
    }
    const clientGone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) clientGone.abort();
    };
    res.once('close', onClose);
    try {
      const { outcome, runtime, sessionFiles } = await service.execute(language, input, {
        signal: clientGone.signal,
        identifier,
      });
      context.language = runtime.language;
      stats.recordExecution(runtime.language);
      if (!clientGone.signal.aborted) {
        const reply = respond(outcome, identifier) as Record<string, unknown>;
        // The code left the session folder over its cap: said beside the result, which stands.
        sendJson(res, 200, sessionFiles === undefined ? reply : { ...reply, sessionFiles });
      }
    } catch (error) {
      // The access log has already counted the departure (499 client_closed_request); what
      // the execution came to after that is nobody's answer, and not an engine failure.
      if (!clientGone.signal.aborted) throw error;
    } finally {
      res.off('close', onClose);
    }
  };
}
