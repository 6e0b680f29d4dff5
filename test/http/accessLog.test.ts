import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { accessLog } from '../../adapter/http/accessLog';
import { createLogger } from '../../adapter/logging/logger';
import { AdapterStats } from '../../adapter/stats/stats';

/** An app whose only middleware is the access log, writing JSON lines into `lines`. */
function loggedApp(level: string): { app: express.Express; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const app = express();
  app.use(accessLog(createLogger(level, sink), new AdapterStats(10)));
  let healthy = true;
  app.get('/health', (_req, res) => {
    res.status(healthy ? 200 : 503).json({ healthy });
    healthy = false;
  });
  app.get('/runtimes', (_req, res) => res.json([]));
  return { app, lines };
}

/** pino's numeric levels. */
const DEBUG = 20;
const INFO = 30;
const WARN = 40;

test('a passing /health probe is logged at debug, a failing one at warn, other requests at info', async () => {
  const { app, lines } = loggedApp('debug');
  await request(app).get('/health').expect(200);
  await request(app).get('/health').expect(503);
  await request(app).get('/runtimes').expect(200);
  const levels = lines.map((line) => [line.path, line.status, line.level]);
  expect(levels).toEqual([
    ['/health', 200, DEBUG],
    ['/health', 503, WARN],
    ['/runtimes', 200, INFO],
  ]);
});

test('at the default info level, passing probes write nothing', async () => {
  const { app, lines } = loggedApp('info');
  await request(app).get('/health').expect(200);
  await request(app).get('/runtimes').expect(200);
  expect(lines.map((line) => line.path)).toEqual(['/runtimes']);
});
