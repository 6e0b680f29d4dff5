// Part of `npm run build`: tsc emits only JavaScript, so the Python runner's .py files are
// copied beside the compiled module that reads them (adapter/execution/pythonRunner/runnerPy.ts).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const from = path.join(root, 'adapter/execution/pythonRunner');
const to = path.join(root, 'dist/adapter/execution/pythonRunner');
mkdirSync(to, { recursive: true });
const copied = readdirSync(from).filter((name) => name.endsWith('.py'));
if (copied.length === 0) throw new Error(`no .py files in ${from}`);
for (const name of copied) copyFileSync(path.join(from, name), path.join(to, name));
