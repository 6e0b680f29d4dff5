import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RUNNER_PY } from '../../adapter/execution/pythonRunner/runnerPy';

// runner.py is the source; runnerPy.ts carries it into dist/ through a plain tsc build.
it('runnerPy.ts holds runner.py exactly (else: node scripts/dev/runner-module.mjs)', () => {
  const python = readFileSync(
    path.join(__dirname, '../../adapter/execution/pythonRunner/runner.py'),
    'utf8',
  );
  expect(RUNNER_PY).toBe(python);
});
