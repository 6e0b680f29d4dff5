/**
 * The limits of the engine the adapter serves through. Piston's API exposes none of them
 * (contract section 5), and a request past one is refused with a 400, so the adapter must know
 * them: the ones it handed the engine it launched (PISTON_* variables), or, for an engine it
 * attached to, those given in configuration or learned from the engine's own refusal.
 */

/** Where a limit's value comes from. */
export type LimitSource = 'launched' | 'configured' | 'learned' | 'unknown';

export interface KnownLimit {
  /** null: not known (an attached engine that has not said). -1 or 0: no limit. */
  value: number | null;
  source: LimitSource;
}

export type LimitName = 'runTimeoutMs' | 'compileTimeoutMs' | 'outputMaxBytes' | 'runMemoryBytes';

export type EngineLimitsSnapshot = Record<LimitName, KnownLimit>;

/** Piston v3.1.1's defaults (api/src/config.js at the pinned commit). */
export const PISTON_DEFAULT_LIMITS: Record<LimitName, number> = {
  runTimeoutMs: 3_000,
  compileTimeoutMs: 10_000,
  outputMaxBytes: 1_024,
  runMemoryBytes: -1,
};

/**
 * Piston's refusal of a request past a limit (api/src/api/v2.js, get_job):
 * `<stage>_<constraint> cannot exceed the configured limit of <n>`.
 */
const REFUSAL =
  /^(run|compile)_(timeout|memory_limit) cannot exceed the configured limit of (-?\d+)$/;

const FIELD_OF: Record<string, LimitName | undefined> = {
  run_timeout: 'runTimeoutMs',
  compile_timeout: 'compileTimeoutMs',
  run_memory_limit: 'runMemoryBytes',
};

export interface LearnedLimit {
  name: LimitName;
  value: number;
}

/** A refusal naming a limit, as the limit it names; null for any other message. */
export function parseLimitRefusal(message: string): LearnedLimit | null {
  const match = REFUSAL.exec(message.trim());
  if (!match) return null;
  const name = FIELD_OF[`${match[1]}_${match[2]}`];
  if (name === undefined) return null;
  return { name, value: Number(match[3]) };
}

export class EngineLimits {
  private readonly learned = new Map<LimitName, number>();

  private constructor(private readonly base: EngineLimitsSnapshot) {}

  /** An engine the adapter launched: it was handed these (supervisor's engine environment). */
  static launched(given: Record<LimitName, number>): EngineLimits {
    const known = (value: number): KnownLimit => ({ value, source: 'launched' });
    return new EngineLimits({
      runTimeoutMs: known(given.runTimeoutMs),
      compileTimeoutMs: known(given.compileTimeoutMs),
      outputMaxBytes: known(given.outputMaxBytes),
      runMemoryBytes: known(given.runMemoryBytes),
    });
  }

  /** An engine someone else runs: only what the operator configured is known up front. */
  static attached(configured: Partial<Record<LimitName, number>>): EngineLimits {
    const from = (value: number | undefined): KnownLimit =>
      value === undefined ? { value: null, source: 'unknown' } : { value, source: 'configured' };
    return new EngineLimits({
      runTimeoutMs: from(configured.runTimeoutMs),
      compileTimeoutMs: from(configured.compileTimeoutMs),
      outputMaxBytes: from(configured.outputMaxBytes),
      runMemoryBytes: from(configured.runMemoryBytes),
    });
  }

  get(name: LimitName): KnownLimit {
    const learned = this.learned.get(name);
    return learned === undefined ? this.base[name] : { value: learned, source: 'learned' };
  }

  /** The run timeout a request may ask for, or null when no cap is known (or none exists). */
  runTimeoutCapMs(): number | null {
    const { value } = this.get('runTimeoutMs');
    return value === null || value <= 0 ? null : value;
  }

  /** Remembers a limit the engine named in a refusal; returns it, or null if the message names none. */
  learnFromRefusal(message: string): LearnedLimit | null {
    const learned = parseLimitRefusal(message);
    if (learned !== null) this.learned.set(learned.name, learned.value);
    return learned;
  }

  /**
   * Forgets what was learned: an attached engine that went away and came back may have been
   * restarted with other settings. The next refusal teaches them again, at the cost of a retry.
   */
  forgetLearned(): void {
    this.learned.clear();
  }

  snapshot(): EngineLimitsSnapshot {
    return {
      runTimeoutMs: this.get('runTimeoutMs'),
      compileTimeoutMs: this.get('compileTimeoutMs'),
      outputMaxBytes: this.get('outputMaxBytes'),
      runMemoryBytes: this.get('runMemoryBytes'),
    };
  }
}
