/**
 * The fixtures recorded from many runs at once and many in a row: each recorded exchange on its
 * own, then the way it was recorded (all fired together, or one after another), every reply
 * checked. No timings are asserted: the recorded ones describe that machine, not this one.
 */
import { defineFixtureReplay } from '../support/fixtureReplay';
import type { PistonFixture } from '../support/fixtures';
import { expectConformance, mapStrings } from '../support/localEngineConformance';
import { PROCESS_DEADLINE_MS } from '../support/localEngine';

// A bound for each test and hook, beyond the sum of the deadlines it waits on (see
// PROCESS_DEADLINE_MS); only a loaded machine gets anywhere near it.
jest.setTimeout(4 * PROCESS_DEADLINE_MS);

const replay = defineFixtureReplay('patient');

/** The recorded exchange of job `i` of a batch: the recording numbered them "job 0", ... */
function jobFixture(fixture: PistonFixture, i: number): PistonFixture {
  const renumber = (value: unknown) =>
    mapStrings(value, (text) => text.replace(/job 0\b/g, `job ${i}`));
  return {
    ...fixture,
    request: { ...fixture.request, body: renumber(fixture.request.body) },
    body: renumber(fixture.body),
  };
}

interface ConcurrencySummary {
  concurrency: number;
  succeeded: number;
}

const batches = replay.fixtures.filter((f) => f.name.startsWith('concurrency_'));
/**
 * The largest batch, fired the way it was recorded: more runs at once than the engine's 64 job
 * slots, so some queue. (The smaller batches add nothing the largest does not, but time.)
 */
const largest = batches.reduce((a, b) =>
  summaryOf(a).concurrency > summaryOf(b).concurrency ? a : b,
);

function summaryOf(fixture: PistonFixture): ConcurrencySummary {
  return fixture._meta.concurrency_summary as ConcurrencySummary;
}

test('the largest recorded batch is larger than the job slots', () => {
  expect(batches.map((f) => f.name).sort()).toEqual([
    'concurrency_10',
    'concurrency_100',
    'concurrency_50',
  ]);
  expect(summaryOf(largest).concurrency).toBeGreaterThan(64);
});

test(`${largest.name}, all at once: every run succeeds with its own output`, async () => {
  const summary = summaryOf(largest);
  const jobs = Array.from({ length: summary.concurrency }, (_, i) => jobFixture(largest, i));
  const replies = await Promise.all(
    jobs.map((job) =>
      replay.engine.request({
        ...replay.localiser.request(job),
        timeoutMs: 2 * PROCESS_DEADLINE_MS,
      }),
    ),
  );
  expect(replies.filter((reply) => reply.status === 200)).toHaveLength(summary.succeeded);
  replies.forEach((reply, i) =>
    expectConformance(jobs[i] as PistonFixture, reply, replay.localiser),
  );
});

test('latency_python_trivial_x20, one after another: every reply as recorded', async () => {
  const fixture = replay.fixtures.find((f) => f.name === 'latency_python_trivial_x20');
  if (fixture === undefined)
    throw new Error('latency_python_trivial_x20 is not a fixture of this setup');
  const runs = (fixture._meta.latency_summary as { runs: number }).runs;
  expect(runs).toBe(20);
  for (let i = 0; i < runs; i += 1) {
    const reply = await replay.engine.request(replay.localiser.request(fixture));
    expectConformance(fixture, reply, replay.localiser);
  }
});
