import type { ExecutionsResponse } from '../azure/executionsResponse';

/**
 * The most recent generation B executions, for `GET /executions/{id}`. Bounded: the oldest
 * goes when a new one would pass the limit, so memory stays flat however long a session runs.
 */
export class ExecutionHistory {
  /** Insertion order is age order. */
  private readonly byId = new Map<string, ExecutionsResponse>();

  constructor(readonly limit: number) {}

  add(execution: ExecutionsResponse): void {
    this.byId.set(execution.id, execution);
    while (this.byId.size > this.limit) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
  }

  /** Another session's executions stay invisible: the identifier must match. */
  find(id: string, identifier: string | undefined): ExecutionsResponse | undefined {
    const execution = this.byId.get(id);
    if (execution === undefined) return undefined;
    return execution.identifier === (identifier ?? '') ? execution : undefined;
  }

  /** Forgets one session's executions (DELETE /session). Returns how many went. */
  forget(identifier: string | undefined): number {
    let removed = 0;
    for (const [id, execution] of this.byId) {
      if (execution.identifier === (identifier ?? '')) {
        this.byId.delete(id);
        removed += 1;
      }
    }
    return removed;
  }

  countFor(identifier: string | undefined): number {
    let count = 0;
    for (const execution of this.byId.values()) {
      if (execution.identifier === (identifier ?? '')) count += 1;
    }
    return count;
  }

  get size(): number {
    return this.byId.size;
  }
}
