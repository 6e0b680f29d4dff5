import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as modules from '../../adapter/execution/pythonRunner/runnerPy';

// The .py files are the source; runnerPy.ts carries them into dist/ through a plain tsc build.
const FOLDER = path.join(__dirname, '../../adapter/execution/pythonRunner');

it.each([
  ['RUNNER_BOOT_PY', 'runner_boot.py'],
  ['RUNNER_PY', 'runner.py'],
  ['RUNNER_RARE_PY', 'runner_rare.py'],
  ['RUNNER_UPLOADS_PY', 'runner_uploads.py'],
] as const)(
  'runnerPy.ts %s holds %s exactly (else: node scripts/dev/runner-module.mjs)',
  (name, file) => {
    expect(modules[name]).toBe(readFileSync(path.join(FOLDER, file), 'utf8'));
  },
);
