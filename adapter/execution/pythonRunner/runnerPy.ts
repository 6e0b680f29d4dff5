import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The runner's Python, read once at start from the .py files beside this module: in adapter/
 * under ts-jest, in dist/ once `npm run build` has copied them there
 * (scripts/build/copyPythonRunner.mjs). Real Python files, so they can be read and run as such.
 */
function runnerFile(name: string): string {
  return readFileSync(path.join(__dirname, name), 'utf8');
}

export const RUNNER_BOOT_PY = runnerFile('runner_boot.py');
export const RUNNER_PY = runnerFile('runner.py');
export const RUNNER_RARE_PY = runnerFile('runner_rare.py');
export const RUNNER_UPLOADS_PY = runnerFile('runner_uploads.py');
export const RUNNER_WARM_PY = runnerFile('runner_warm.py');
