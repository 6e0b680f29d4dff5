/**
 * `npm run bench`: runs every section in ./sections against freshly started processes and
 * prints one table, each figure beside its target. Progress goes to stderr, the table to
 * stdout. Not part of `npm test`: these are timings, and they belong to this machine.
 *
 * Sections are modules in ./sections exporting a BenchSection (as `section`, `default`, or any
 * export named `...Section`). The known ones run in the order below; any other module found
 * there (the pool emulator's pool.ts, say) runs after them, in name order.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { formatTable } from './support/table';
import type { BenchContext, BenchRow, BenchSection } from './types';

const ORDER = [
  'engineBound',
  'pythonResult',
  'adapterBound',
  'startup',
  'memory',
  'overload',
  // The pool emulator's section (sections/pool.ts) is picked up from the folder; list it
  // here only to move it ahead of others.
];

interface FoundSection {
  name: string;
  run: BenchSection;
}

function sectionsIn(dir: string): FoundSection[] {
  const modules = readdirSync(dir)
    .filter((file) => file.endsWith('.js'))
    .map((file) => path.basename(file, '.js'));
  const rank = (name: string) => {
    const index = ORDER.indexOf(name);
    return index === -1 ? ORDER.length : index;
  };
  modules.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const found: FoundSection[] = [];
  for (const name of modules) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(path.join(dir, name)) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(exports)) {
      const isSection =
        exportName === 'section' || exportName === 'default' || exportName.endsWith('Section');
      if (isSection && typeof value === 'function') {
        found.push({ name: `${name}.${exportName}`, run: value as BenchSection });
      }
    }
  }
  return found;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const context: BenchContext = {
    progress: (message) => process.stderr.write(`bench: ${message}\n`),
    repoRoot: path.resolve(__dirname, '../../..'),
  };
  const sections = sectionsIn(path.join(__dirname, 'sections')).filter(
    (section) => only.length === 0 || only.some((name) => section.name.startsWith(name)),
  );
  const rows: BenchRow[] = [];
  const started = performance.now();
  for (const section of sections) {
    context.progress(`section ${section.name}`);
    try {
      rows.push(...(await section.run(context)));
    } catch (error) {
      // One broken section must not hide the others' figures.
      const message = error instanceof Error ? error.message : String(error);
      rows.push({ section: section.name, metric: 'FAILED', value: message.split('\n')[0] ?? '' });
      context.progress(`section ${section.name} failed: ${message}`);
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  process.stdout.write(`${formatTable(rows)}\n`);
  const missed = rows.filter((row) => row.met === false).length;
  const checked = rows.filter((row) => row.met !== undefined).length;
  process.stdout.write(
    `${checked - missed} of ${checked} targets met; ${sections.length} sections in ${seconds} s\n`,
  );
}

void main();
