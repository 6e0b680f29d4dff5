/**
 * The built local engine with Piston's default settings (dialect v3) against every fixture
 * recorded from the real Piston's main server.
 */
import { loadAllFixtures } from '../support/fixtures';
import { defineFixtureReplay } from '../support/fixtureReplay';
import {
  LOOSE_RUNS,
  PLANNED_FIXTURE_NAMES,
  RECORDED_RUNTIMES,
  SKIPPED,
} from '../support/localEngineConformance';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const replay = defineFixtureReplay('main');

test('the skip list and the setups name only recorded fixtures, each once', () => {
  const recorded = new Set(loadAllFixtures().map((f) => f.name));
  expect(PLANNED_FIXTURE_NAMES.filter((name) => !recorded.has(name))).toEqual([]);
  expect(new Set(PLANNED_FIXTURE_NAMES).size).toBe(PLANNED_FIXTURE_NAMES.length);
  const replayed = new Set([...recorded].filter((name) => !(name in SKIPPED)));
  expect(Object.keys(LOOSE_RUNS).filter((name) => !replayed.has(name))).toEqual([]);
});

describe.each(Object.entries(SKIPPED))('skipped fixture %s', (_name, reason) => {
  test.skip(reason, () => {});
});

test('GET /api/v2/runtimes lists the installed languages with the versions on PATH', async () => {
  // runtimes.json checks the same where all five are installed; this holds on any machine.
  const { versions } = replay;
  const expected = RECORDED_RUNTIMES.filter((rt) => versions.get(rt.language) !== null).map(
    ({ language }) => ({ language, version: versions.get(language) }),
  );
  const reply = await replay.engine.request({ method: 'GET', path: '/api/v2/runtimes' });
  const listed = reply.json as { language: string; version: string }[];
  expect(listed.map(({ language, version }) => ({ language, version }))).toEqual(expected);
});
