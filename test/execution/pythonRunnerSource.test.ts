import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as modules from '../../adapter/execution/pythonRunner/runnerPy';

// The .py files are the source; `npm run build` (which `npm test` runs first) copies them into
// dist/, where the built adapter reads them.
const SOURCE = path.join(__dirname, '../../adapter/execution/pythonRunner');
const BUILT = path.join(__dirname, '../../dist/adapter/execution/pythonRunner');

it.each([
  ['RUNNER_BOOT_PY', 'runner_boot.py'],
  ['RUNNER_PY', 'runner.py'],
  ['RUNNER_RARE_PY', 'runner_rare.py'],
  ['RUNNER_UPLOADS_PY', 'runner_uploads.py'],
  ['RUNNER_WARM_PY', 'runner_warm.py'],
] as const)('%s is %s, and the build ships that file as it is', (name, file) => {
  const source = readFileSync(path.join(SOURCE, file), 'utf8');
  expect(source.length).toBeGreaterThan(100);
  expect(modules[name]).toBe(source);
  expect(readFileSync(path.join(BUILT, file), 'utf8')).toBe(source);
});
