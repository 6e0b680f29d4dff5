import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { PoolError } from './poolErrors';

/**
 * Reproduces the pool's token check: no bearer token, 401 (with `WWW-Authenticate`, as Entra
 * protected APIs answer); a token that is not the configured one, 403, as Azure answers a
 * principal without the Session Executor role. Without a configured token, everyone passes.
 */
export function bearerToken(expected: string | undefined): RequestHandler {
  if (expected === undefined) return (_req, _res, next) => next();
  const expectedDigest = digest(expected);
  return (req, _res, next) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null) {
      return next(
        new PoolError(
          401,
          'Unauthorized',
          header === undefined
            ? 'the request has no Authorization header; send "Authorization: Bearer <token>"'
            : 'the Authorization header is not "Bearer <token>"',
          { 'www-authenticate': 'Bearer' },
        ),
      );
    }
    // Compared as digests: equal lengths, and no timing hint about the token.
    if (!timingSafeEqual(digest(match[1] as string), expectedDigest)) {
      return next(
        new PoolError(403, 'Forbidden', 'the bearer token is not allowed to use this session pool'),
      );
    }
    next();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
