// Writes adapter/execution/pythonRunner/runnerPy.ts from the runner*.py files beside it, so the runner is real Python to read, lint and run, and still
// ships in dist/ with a plain `tsc` build. test/unit/pythonRunnerSource.test.ts fails when
// they differ. Usage: node scripts/dev/runner-module.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../adapter/execution/pythonRunner',
);

const MODULES = [
  ['RUNNER_BOOT_PY', 'runner_boot.py'],
  ['RUNNER_PY', 'runner.py'],
  ['RUNNER_RARE_PY', 'runner_rare.py'],
  ['RUNNER_UPLOADS_PY', 'runner_uploads.py'],
];

const literal = (text) =>
  `\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;

const lines = [
  '// Generated from runner*.py by scripts/dev/runner-module.mjs: edit those, then run it.',
  '// test/unit/pythonRunnerSource.test.ts fails when this file and the .py files differ.',
];
for (const [name, file] of MODULES) {
  lines.push(
    '',
    `export const ${name} = ${literal(readFileSync(path.join(folder, file), 'utf8'))};`,
  );
}
writeFileSync(path.join(folder, 'runnerPy.ts'), `${lines.join('\n')}\n`);
