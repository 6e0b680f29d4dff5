import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where each reliability test appends its figures (one JSON line per test); the global
 * teardown prints them as the run's last lines. Test workers inherit this environment.
 */
export default async function figuresSetup() {
  process.env.RELIABILITY_FIGURES_FILE ??= path.join(
    os.tmpdir(),
    `psa-reliability-figures-${process.pid}.jsonl`,
  );
  rmSync(process.env.RELIABILITY_FIGURES_FILE, { force: true });
  process.env.RELIABILITY_STARTED_AT = String(Date.now());
}
