/**
 * The contract between `npm run bench` (scripts/bench/main.ts) and its sections. Every figure
 * a section reports is measured in the same run on the same machine; a target, when there is
 * one, is printed beside it.
 */
export interface BenchRow {
  /** Which part of the benchmark this row belongs to, e.g. "engine-bound" or "pool". */
  section: string;
  /** What was measured, e.g. "throughput ratio @32 connections". */
  metric: string;
  /** The figure, formatted with its unit. */
  value: string;
  /** The target in words, e.g. ">= 0.97"; absent when there is none. */
  target?: string;
  /** Whether the figure meets the target; absent when there is no target. */
  met?: boolean;
}

export interface BenchContext {
  /** Progress lines go to stderr so the table on stdout stays clean. */
  progress(message: string): void;
  /** Absolute path of the repository root (dist/ is built before sections run). */
  repoRoot: string;
}

export type BenchSection = (context: BenchContext) => Promise<BenchRow[]>;
