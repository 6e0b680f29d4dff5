import type { Request, RequestHandler, Response } from 'express';
import {
  checkIdentifier,
  checkIdentifierValues,
  IDENTIFIER_RULE,
  identifierValuesOf,
  type IdentifierCheck,
} from '../sessions/identifier';
import type { AdapterError } from '../errors/adapterError';
import { errors } from '../errors/errorTable';

/** What handlers learn about a request that the access log and counters need. */
export interface RequestContext {
  identifier: string | undefined;
  language?: string;
  errorCode?: string;
  /** Overrides the matched express route in the access log (middleware has none). */
  route?: string;
}

/** Each request's `identifier` is checked once; every reader sees the same verdict. */
const checked = new WeakMap<Request, IdentifierCheck>();

function checkOf(req: Request): IdentifierCheck {
  let check = checked.get(req);
  if (check === undefined) {
    // From the raw target, not req.query: express's parser would turn a repeated or bracketed
    // parameter into an array or object, and the pool reads the raw string too.
    check = checkIdentifierValues(identifierValuesOf(req.originalUrl));
    checked.set(req, check);
  }
  return check;
}

export function invalidIdentifier(reason: string): AdapterError {
  return errors.invalid_identifier({ reason, rule: IDENTIFIER_RULE });
}

/**
 * The request's session identifier: undefined when none is given (the container's own
 * session); a 400 for one a session pool would refuse, so an odd identifier never falls
 * into another session.
 */
export function identifierOf(req: Request): string | undefined {
  const check = checkOf(req);
  if (check.kind === 'invalid') throw invalidIdentifier(check.reason);
  return check.kind === 'valid' ? check.identifier : undefined;
}

/** For the access log, which must never throw: an invalid identifier logs as none. */
export function identifierForLog(req: Request): string | undefined {
  const check = checkOf(req);
  return check.kind === 'valid' ? check.identifier : undefined;
}

/** Every route: refuse an invalid identifier before anything else reads the request. */
export function requireValidIdentifier(): RequestHandler {
  return (req, _res, next) => {
    try {
      identifierOf(req);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The session of an execution: the pool's `identifier` query parameter, else the one some
 * clients also put in the body (LlamaIndex TypeScript sends `properties.identifier`), which
 * must pass the same rule.
 */
export function identifierOfExecution(req: Request): string | undefined {
  const fromQuery = identifierOf(req);
  if (fromQuery !== undefined) return fromQuery;
  const body = req.body as { identifier?: unknown; properties?: { identifier?: unknown } } | null;
  const candidate = body?.properties?.identifier ?? body?.identifier;
  if (candidate === undefined || candidate === null) return undefined;
  if (typeof candidate !== 'string') {
    throw invalidIdentifier(`the body's identifier is a ${typeof candidate}, not a string`);
  }
  const check = checkIdentifier(candidate);
  if (check.kind === 'invalid') throw invalidIdentifier(check.reason);
  return check.kind === 'valid' ? check.identifier : undefined;
}

export function contextOf(res: Response): RequestContext {
  return res.locals as RequestContext;
}
