import type { Request, Response } from 'express';

/** What handlers learn about a request that the access log and counters need. */
export interface RequestContext {
  identifier: string | undefined;
  language?: string;
  errorCode?: string;
  /** Overrides the matched express route in the access log (middleware has none). */
  route?: string;
}

/**
 * Azure session ids are 4-128 characters of a small set, but the pool checks that, not us:
 * any identifier up to 128 characters without control characters names its own session (its
 * own file folder), so two sessions never share files. Longer or odd ones count as absent,
 * never refused.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const IDENTIFIER_PATTERN = /^[^\u0000-\u001f\u007f]{1,128}$/;

export function identifierOf(req: Request): string | undefined {
  const value = req.query['identifier'];
  return typeof value === 'string' && IDENTIFIER_PATTERN.test(value) ? value : undefined;
}

/**
 * The session of an execution: the pool's `identifier` query parameter, else the one some
 * clients also put in the body (LlamaIndex TypeScript sends `properties.identifier`).
 */
export function identifierOfExecution(req: Request): string | undefined {
  const fromQuery = identifierOf(req);
  if (fromQuery !== undefined) return fromQuery;
  const body = req.body as { identifier?: unknown; properties?: { identifier?: unknown } } | null;
  const candidate = body?.properties?.identifier ?? body?.identifier;
  return typeof candidate === 'string' && IDENTIFIER_PATTERN.test(candidate)
    ? candidate
    : undefined;
}

export function contextOf(res: Response): RequestContext {
  return res.locals as RequestContext;
}
