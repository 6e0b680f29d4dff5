import { existsSync, readFileSync, rmSync } from 'node:fs';

/**
 * Prints the figures each reliability test recorded: requests, failures, max latency,
 * restarts. A global teardown runs after jest's summary, so these are the last lines.
 */
export default async function figuresTeardown() {
  const file = process.env.RELIABILITY_FIGURES_FILE;
  const figures = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line))
    : [];
  rmSync(file, { force: true });
  const lines = figures.map(
    (f) =>
      `reliability: ${f.name}: ${f.requests} requests, ${f.failures} failures, ` +
      `max latency ${Math.round(f.maxLatencyMs)} ms` +
      (f.restarts === undefined ? '' : `, ${f.restarts} restarts`) +
      (f.detail ? ` (${f.detail})` : ''),
  );
  const sum = (pick) => figures.reduce((total, f) => total + (pick(f) || 0), 0);
  const maxLatency = figures.reduce((max, f) => Math.max(max, f.maxLatencyMs), 0);
  const seconds = (Date.now() - Number(process.env.RELIABILITY_STARTED_AT)) / 1000;
  lines.push(
    `reliability: total: ${sum((f) => f.requests)} requests, ${sum((f) => f.failures)} failures, ` +
      `max latency ${Math.round(maxLatency)} ms, ${sum((f) => f.restarts)} restarts, ` +
      `${seconds.toFixed(0)} s`,
  );
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
