import type { BenchRow } from '../types';

/** A figure with no target (context for the ones that have one). */
export function info(section: string, metric: string, value: string): BenchRow {
  return { section, metric, value };
}

/** A figure against its target. */
export function target(
  section: string,
  metric: string,
  value: string,
  targetText: string,
  met: boolean,
): BenchRow {
  return { section, metric, value, target: targetText, met };
}

export function ms(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a';
}

export function mb(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} MB` : 'n/a';
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

export function rps(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} req/s` : 'n/a';
}
