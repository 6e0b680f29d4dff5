// Writes adapter/execution/pythonRunner/runnerPy.ts from runner.py beside it, so the runner is
// real Python to read, lint and run, and still ships in dist/ with a plain `tsc` build.
// test/unit/pythonRunnerSource.test.ts fails when the two differ.
// Usage: node scripts/dev/runner-module.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../adapter/execution/pythonRunner',
);

/** The module text for a runner source; the test builds the same text to compare. */
export function runnerModuleText(python) {
  const escaped = python.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
  return [
    '// Generated from runner.py by scripts/dev/runner-module.mjs: edit runner.py, then run it.',
    '// test/unit/pythonRunnerSource.test.ts fails when this file and runner.py differ.',
    `export const RUNNER_PY = \`${escaped}\`;`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const python = readFileSync(path.join(folder, 'runner.py'), 'utf8');
  writeFileSync(path.join(folder, 'runnerPy.ts'), runnerModuleText(python));
}
