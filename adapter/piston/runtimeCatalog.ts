import semver from 'semver';
import type { EngineState } from '../engine/engineState';
import type { PistonClient } from './pistonClient';
import type { PistonRuntime } from './types';

export type RuntimeLookup =
  | { kind: 'found'; runtime: PistonRuntime }
  | { kind: 'unknown_language'; available: string[] }
  | { kind: 'unknown_version'; language: string; available: string[] };

/** A lookup that misses refreshes the list at most this often, so typos cannot hammer it. */
const MISS_REFRESH_INTERVAL_MS = 1_000;
const RUNTIMES_TIMEOUT_MS = 5_000;

/**
 * The engine's runtimes, cached. The list only changes when the engine restarts or packages
 * are installed, so it is refetched when the engine's generation changes or a lookup misses.
 */
export class RuntimeCatalog {
  private cached: { generation: number; runtimes: PistonRuntime[] } | null = null;
  private inFlight: Promise<PistonRuntime[]> | null = null;
  private lastMissRefresh = 0;

  constructor(
    private readonly client: PistonClient,
    private readonly engineState: EngineState,
  ) {}

  /** The cached list, or an empty one if it was never fetched (for status pages). */
  known(): PistonRuntime[] {
    return this.cached?.runtimes ?? [];
  }

  /**
   * For pages that must answer whatever the engine does (GET /, /metadata): with a ready
   * engine the runtimes (fetched once, then cached), else, or when it does not answer, the
   * last known ones.
   */
  async listOrKnown(): Promise<PistonRuntime[]> {
    if (this.engineState.snapshot().state !== 'ready') return this.known();
    try {
      return await this.list();
    } catch {
      return this.known();
    }
  }

  async list(): Promise<PistonRuntime[]> {
    const generation = this.engineState.snapshot().generation;
    if (this.cached && this.cached.generation === generation) return this.cached.runtimes;
    return this.refresh();
  }

  async resolve(language: string, version: string | undefined): Promise<RuntimeLookup> {
    const first = findRuntime(await this.list(), language, version);
    if (first.kind === 'found') return first;
    const now = Date.now();
    if (now - this.lastMissRefresh < MISS_REFRESH_INTERVAL_MS) return first;
    this.lastMissRefresh = now;
    return findRuntime(await this.refresh(), language, version);
  }

  /** Concurrent callers share one fetch instead of each asking the engine. */
  private refresh(): Promise<PistonRuntime[]> {
    if (this.inFlight) return this.inFlight;
    const generation = this.engineState.snapshot().generation;
    this.inFlight = this.client
      .runtimes({ timeoutMs: RUNTIMES_TIMEOUT_MS })
      .then((runtimes) => {
        this.cached = { generation, runtimes };
        return runtimes;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}

/** Finds a runtime by language name or alias; without a version, the newest installed. */
export function findRuntime(
  runtimes: PistonRuntime[],
  language: string,
  version: string | undefined,
): RuntimeLookup {
  const wanted = language.toLowerCase();
  const candidates = runtimes.filter(
    (runtime) =>
      runtime.language.toLowerCase() === wanted ||
      runtime.aliases.some((alias) => alias.toLowerCase() === wanted),
  );
  if (candidates.length === 0) {
    return { kind: 'unknown_language', available: languageNames(runtimes) };
  }
  const matching =
    version === undefined || version === '' || version === '*'
      ? candidates
      : candidates.filter((runtime) => versionMatches(runtime.version, version));
  const newest = matching.sort(compareVersionsDescending)[0];
  if (!newest) {
    const canonical = candidates[0]?.language ?? language;
    return {
      kind: 'unknown_version',
      language: canonical,
      available: candidates.map((runtime) => runtime.version).sort(),
    };
  }
  return { kind: 'found', runtime: newest };
}

/** Piston matches versions with semver ranges; an exact string also matches loose versions. */
function versionMatches(installed: string, requested: string): boolean {
  if (installed === requested) return true;
  const coerced = semver.valid(installed) ?? semver.coerce(installed)?.version;
  if (!coerced || semver.validRange(requested) === null) return false;
  return semver.satisfies(coerced, requested);
}

function compareVersionsDescending(a: PistonRuntime, b: PistonRuntime): number {
  const va = semver.coerce(a.version);
  const vb = semver.coerce(b.version);
  if (va && vb) return semver.rcompare(va, vb);
  return b.version.localeCompare(a.version);
}

export function languageNames(runtimes: PistonRuntime[]): string[] {
  return [...new Set(runtimes.map((runtime) => runtime.language))].sort();
}
