import { EventEmitter } from 'node:events';

/**
 * The engine's lifecycle as the HTTP side needs to see it.
 * - starting: launched (or attaching), not yet answering; ingress is still closed.
 * - ready: answering health checks; executions are sent.
 * - restarting: died after being ready; a relaunch is scheduled or under way.
 * - degraded: never became healthy by the deadline; executions are refused with the reason.
 * - stopping: the adapter is shutting down.
 */
export type EngineLifecycle = 'starting' | 'ready' | 'restarting' | 'degraded' | 'stopping';

export interface EngineExit {
  code: number | null;
  signal: string | null;
  at: string;
  /** The engine's last stderr lines before it exited, newest last. */
  stderrTail: string[];
}

export interface EngineSnapshot {
  state: EngineLifecycle;
  /** Why the engine is not ready, in words an operator can act on. */
  reason: string | null;
  mode: 'supervised' | 'attached';
  url: string;
  pid: number | null;
  restarts: number;
  lastExit: EngineExit | null;
  /** Bumped each time the engine (re)becomes ready, so caches keyed on it refresh. */
  generation: number;
  since: string;
}

export interface EngineStateEvents {
  change: [EngineSnapshot];
}

/**
 * Shared, observable view of the engine. The supervisor writes it; the HTTP app only reads,
 * so the app can be built in tests with a state that never changes.
 */
export class EngineState extends EventEmitter<EngineStateEvents> {
  private snapshotValue: EngineSnapshot;

  constructor(init: { mode: EngineSnapshot['mode']; url: string; state?: EngineLifecycle }) {
    super();
    this.snapshotValue = {
      state: init.state ?? 'starting',
      reason: init.state === 'ready' ? null : 'engine is starting',
      mode: init.mode,
      url: init.url,
      pid: null,
      restarts: 0,
      lastExit: null,
      generation: init.state === 'ready' ? 1 : 0,
      since: new Date().toISOString(),
    };
  }

  snapshot(): EngineSnapshot {
    return this.snapshotValue;
  }

  isReady(): boolean {
    return this.snapshotValue.state === 'ready';
  }

  update(patch: Partial<Omit<EngineSnapshot, 'generation' | 'since'>>): void {
    const previous = this.snapshotValue;
    const next: EngineSnapshot = { ...previous, ...patch };
    if (next.state === 'ready') next.reason = null;
    if (next.state !== previous.state) {
      next.since = new Date().toISOString();
      if (next.state === 'ready') next.generation = previous.generation + 1;
    }
    this.snapshotValue = next;
    this.emit('change', next);
  }
}

/** A state for an engine that is already up and is not supervised (tests, attach mode). */
export function readyEngineState(url: string): EngineState {
  return new EngineState({ mode: 'attached', url, state: 'ready' });
}
