/**
 * The fixtures recorded from a Piston with nothing installed, against a local engine offering
 * no languages (LOCAL_ENGINE_LANGUAGES set but empty).
 */
import { defineFixtureReplay } from '../support/fixtureReplay';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const replay = defineFixtureReplay('noRuntimes');

test('it still starts, listens and says it offers nothing', async () => {
  const listening = await replay.engine.listening();
  expect(listening.runtimes).toEqual([]);
});
