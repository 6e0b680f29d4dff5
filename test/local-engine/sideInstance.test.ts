/**
 * The fixtures recorded from Piston's side instance (PISTON_RUN_MEMORY_LIMIT=100000000, python
 * and bash installed through the API), against a local engine configured the same way: the
 * configured memory limit applies by default and bounds the requested one, and only the
 * offered languages are listed and run.
 */
import { defineFixtureReplay } from '../support/fixtureReplay';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const replay = defineFixtureReplay('sideInstance');

test('a language this engine does not offer is unknown, though installed here', async () => {
  const reply = await replay.engine.execute({
    language: 'javascript',
    version: '*',
    files: [{ content: 'console.log(1)' }],
  });
  expect(reply.status).toBe(400);
  expect(reply.json).toEqual({ message: 'javascript-* runtime is unknown' });
});
