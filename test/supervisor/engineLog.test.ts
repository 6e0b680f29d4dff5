import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EngineJobErrors } from '../../adapter/engine/engineJobErrors';
import { JobErrorReader, parseEngineLine } from '../../adapter/supervisor/engineLog';
import { FIXTURES_DIR } from '../support/fixtures';

/** What the real Piston printed on its stdout, escape codes included. */
const sample = readFileSync(path.join(FIXTURES_DIR, 'piston-stdout-sample.log'), 'utf8')
  .split('\n')
  .filter((line) => line !== '');

test("Piston's lines become entries: level, module, message, its time, no escape codes", () => {
  const entries = sample.map((line) => parseEngineLine(line, 'stdout'));
  expect(sample[0]).toContain('\u001b[');
  for (const entry of entries) expect(JSON.stringify(entry)).not.toContain('\\u001b');
  expect(entries[0]).toEqual({
    level: 'info',
    module: 'config',
    message: 'Loading Configuration from environment',
    time: '2026-12-01T09:11:40.869Z',
    fields: {},
  });
  expect(entries[5]).toMatchObject({
    level: 'info',
    module: 'index',
    message: 'API server started on 127.0.0.1:2101',
  });
  // The three lines of every job are debug: at info they would be most of the log.
  const jobLines = entries.filter((entry) => entry.module?.startsWith('job/'));
  expect(jobLines.map((entry) => entry.message)).toEqual([
    'Priming job',
    'Executing job runtime=python-3.11.2',
    'Cleaning up job',
  ]);
  for (const entry of jobLines) expect(entry.level).toBe('debug');
  const errors = entries.filter((entry) => entry.level === 'error');
  expect(errors[0]).toMatchObject({
    module: 'api/v2',
    message: 'Error executing job: 06cbb442-61aa-4497-ab82-ec8d6574f93c:',
  });
});

test("a job error's reason is its next line, with its job's uuid", () => {
  const reader = new JobErrorReader();
  const found = sample
    .map((line) => reader.read(parseEngineLine(line, 'stdout')))
    .filter((error) => error !== null);
  expect(found).toEqual([
    {
      uuid: '06cbb442-61aa-4497-ab82-ec8d6574f93c',
      reason:
        'Error: File path "../../escape.py" tries to escape parent directory: ../../escape.py',
    },
    {
      uuid: '0ef3728a-5d20-46a1-8860-3c63aae2db3b',
      reason:
        "TypeError [ERR_INVALID_ARG_VALUE]: The argument 'args[12]' must be a string without null bytes. Received 'a\\x00b'",
    },
    {
      uuid: 'f8b2ded3-5a32-467a-b7e2-897ef7d39d7c',
      reason:
        "Error: EISDIR: illegal operation on a directory, open '/piston/jobs/f8b2ded3-5a32-467a-b7e2-897ef7d39d7c'",
    },
    // The sample ends with a fourth header whose reason line was not recorded: nothing.
  ]);
});

test("the local engine's JSON lines keep their fields and level", () => {
  const line = JSON.stringify({
    level: 40,
    time: '2026-12-01T00:00:00.000Z',
    pid: 7,
    name: 'local-engine',
    msg: 'language unavailable',
    language: 'c',
  });
  expect(parseEngineLine(line, 'stdout')).toEqual({
    level: 'warn',
    module: 'local-engine',
    message: 'language unavailable',
    time: '2026-12-01T00:00:00.000Z',
    fields: { language: 'c' },
  });
  const failed = parseEngineLine(
    JSON.stringify({ level: 30, msg: 'job failed', error: 'why' }),
    'stdout',
  );
  expect(new JobErrorReader().read(failed)).toEqual({ uuid: 'unnamed', reason: 'why' });
});

test('a plain line is kept as it is, warn on stderr', () => {
  expect(parseEngineLine('Error: listen EADDRINUSE', 'stderr')).toMatchObject({
    level: 'warn',
    module: null,
    message: 'Error: listen EADDRINUSE',
  });
});

test('the reason taken is the latest one logged since the call was sent, waited for briefly', async () => {
  const errors = new EngineJobErrors();
  errors.record('old', 'before the call');
  const sentAt = performance.now();
  expect(errors.latestSince(sentAt)).toBeNull();
  setTimeout(() => errors.record('new', 'during the call'), 10);
  await expect(errors.waitSince(sentAt, 2_000)).resolves.toMatchObject({ uuid: 'new' });
  await expect(new EngineJobErrors().waitSince(performance.now(), 20)).resolves.toBeNull();
});
