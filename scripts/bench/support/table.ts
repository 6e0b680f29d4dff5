import type { BenchRow } from '../types';

const HEADERS = ['section', 'metric', 'measured', 'target', 'met'] as const;

/** One plain-text table, every target beside its figure. */
export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((row) => [
    row.section,
    row.metric,
    row.value,
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ]);
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...cells.map((cell) => (cell[column] ?? '').length)),
  );
  const line = (values: readonly string[]) =>
    `| ${values.map((value, column) => value.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [line(HEADERS), rule, ...cells.map(line)].join('\n');
}
