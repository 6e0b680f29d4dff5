/**
 * The management operations Azure documents for custom-container pools
 * (sessions-custom-container.md): all POST, on `/.management/<operation>`.
 *   stopSession?identifier=ID  -> 200 text/plain "Session ID in session pool NAME stopped."
 *   getSession?identifier=ID   -> 200 SessionView
 *   listSessions?skip=N        -> 200 {value: SessionView[], count, nextLink}, 300 per page
 * Unknown identifiers answer 400 SessionWithIdentifierNotFound, as real pools were seen to.
 */
import express, { type Request, type Router } from 'express';
import { identifierOf } from './identifier';
import { PoolError, poolErrors } from './poolErrors';
import type { SessionPool } from './sessionPool';

export const MANAGEMENT_PREFIX = '/.management';
const PAGE_SIZE = 300;

export function managementRoutes(pool: SessionPool, poolName: string): Router {
  const router = express.Router();
  router.post('/stopSession', async (req, res) => {
    const identifier = identifierOf(req.url);
    await pool.stopSession(identifier);
    res
      .status(200)
      .type('text/plain')
      .send(`Session ${identifier} in session pool ${poolName} stopped.`);
  });
  router.post('/getSession', (req, res) => {
    res.status(200).json(pool.getSession(identifierOf(req.url)));
  });
  router.post('/listSessions', (req, res) => {
    const skip = skipOf(req);
    const sessions = pool.listSessions();
    const value = sessions.slice(skip, skip + PAGE_SIZE);
    const more = skip + PAGE_SIZE < sessions.length;
    res
      .status(200)
      .json({ value, count: value.length, nextLink: more ? nextLink(req, skip) : null });
  });
  router.use((req, _res, next) =>
    next(poolErrors.notSupported(req.method, req.originalUrl.split('?')[0] ?? '')),
  );
  return router;
}

function skipOf(req: Request): number {
  const raw = new URL(req.originalUrl, 'http://pool').searchParams.get('skip');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new PoolError(
      400,
      'SessionRequestValidationFailed',
      `skip=${JSON.stringify(raw)} is not a non-negative integer`,
    );
  }
  return Number(raw);
}

function nextLink(req: Request, skip: number): string {
  const url = new URL(req.originalUrl, `${req.protocol}://${req.get('host') ?? 'localhost'}`);
  url.searchParams.set('skip', String(skip + PAGE_SIZE));
  return url.toString();
}
