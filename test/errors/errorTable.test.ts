import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AdapterError } from '../../adapter/errors/adapterError';
import { ERROR_TABLE, errorTableMarkdown, errors } from '../../adapter/errors/errorTable';

const README = path.resolve(__dirname, '../../README.md');
const START = '<!-- error-table:start -->';
const END = '<!-- error-table:end -->';

describe('the error table', () => {
  test("the README's table of error codes is the table itself", () => {
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const documented = readme.slice(start + START.length, end).trim();
    // On failure: paste errorTableMarkdown()'s output between the markers (prettier may
    // re-pad the columns; the comparison ignores padding).
    const squeeze = (table: string) =>
      table
        .split('\n')
        .map((line) => line.replace(/\s*\|\s*/g, '|').replace(/-{3,}/g, '---'))
        .join('\n');
    expect(squeeze(documented)).toBe(squeeze(errorTableMarkdown()));
  });

  test('every row has a 4xx or 5xx status, a source and a summary', () => {
    for (const [code, row] of Object.entries(ERROR_TABLE)) {
      expect({ code, ok: row.status >= 400 && row.status < 600 }).toEqual({ code, ok: true });
      expect(['adapter', 'engine']).toContain(row.source);
      expect(row.summary.length).toBeGreaterThan(10);
    }
  });

  test('a factory fills in its row: status, code, source, message, details, Retry-After', () => {
    const error = errors.queue_full({ maxInFlight: 4, queueMax: 8, inFlight: 4, queued: 8 });
    expect(error).toBeInstanceOf(AdapterError);
    expect(error.status).toBe(429);
    expect(error.headers).toEqual({ 'retry-after': '1' });
    expect(error.toBody()).toEqual({
      error: {
        code: 'queue_full',
        message:
          'all 4 execution slots are busy and 8 executions are already waiting; retry shortly',
        source: 'adapter',
        maxInFlight: 4,
        queueMax: 8,
        inFlight: 4,
        queued: 8,
      },
    });
  });

  test('a row may keep its params out of the body, and a raise site may set what it decides', () => {
    const notReady = errors.engine_not_ready(
      { engineState: 'degraded', reason: 'exited with code 1', restarts: 2, lastExit: null },
      { retryAfterSeconds: 10 },
    );
    expect(notReady.headers['retry-after']).toBe('10');
    expect(notReady.toBody().error).toEqual({
      code: 'engine_not_ready',
      message: 'the engine is degraded: exited with code 1',
      source: 'adapter',
      engineState: 'degraded',
      restarts: 2,
      lastExit: null,
    });
    const express4xx = errors.bad_request({ message: 'nope' }, { status: 414 });
    expect(express4xx.status).toBe(414);
    expect(
      errors.method_not_allowed({ method: 'PUT', path: '/x', allowed: ['GET', 'POST'] }).headers,
    ).toEqual({ allow: 'GET, POST' });
  });

  test('answers from the engine say so in their source', () => {
    expect(errors.engine_error({ message: 'boom', engineStatus: 500 }).source).toBe('engine');
    expect(errors.engine_rejected_request({ message: 'no', engineStatus: 400 }).status).toBe(400);
  });
});
