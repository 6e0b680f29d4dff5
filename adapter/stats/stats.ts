/** Counters for GET /: cheap to update on every request, bounded in memory. */
export class AdapterStats {
  readonly startedAt = new Date();
  private requestsTotal = 0;
  private readonly byStatusClass: Record<string, number> = {};
  private readonly executionsByLanguage = new Map<string, number>();
  private readonly errorsByCode = new Map<string, number>();
  /** Insertion order is recency order: a touched identifier is moved to the end. */
  private readonly identifiers = new Map<string, { operations: number; lastActivity: string }>();
  private identifiersEvicted = 0;

  constructor(private readonly maxIdentifiers: number) {}

  recordRequest(status: number, identifier: string | undefined): void {
    this.requestsTotal += 1;
    const statusClass = `${Math.floor(status / 100)}xx`;
    this.byStatusClass[statusClass] = (this.byStatusClass[statusClass] ?? 0) + 1;
    if (identifier !== undefined) this.touchIdentifier(identifier);
  }

  recordExecution(language: string): void {
    this.executionsByLanguage.set(language, (this.executionsByLanguage.get(language) ?? 0) + 1);
  }

  recordError(code: string): void {
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }

  snapshot() {
    return {
      requests: { total: this.requestsTotal, byStatus: { ...this.byStatusClass } },
      executionsByLanguage: Object.fromEntries(this.executionsByLanguage),
      errorsByCode: Object.fromEntries(this.errorsByCode),
      identifiers: {
        tracked: this.identifiers.size,
        evicted: this.identifiersEvicted,
        limit: this.maxIdentifiers,
        recent: Object.fromEntries([...this.identifiers].reverse()),
      },
    };
  }

  /** Identifiers seen, most recent first. */
  recentIdentifiers(): string[] {
    return [...this.identifiers.keys()].reverse();
  }

  lastActivityOf(identifier: string): string | undefined {
    return this.identifiers.get(identifier)?.lastActivity;
  }

  private touchIdentifier(identifier: string): void {
    const entry = this.identifiers.get(identifier);
    this.identifiers.delete(identifier);
    this.identifiers.set(identifier, {
      operations: (entry?.operations ?? 0) + 1,
      lastActivity: new Date().toISOString(),
    });
    if (this.identifiers.size > this.maxIdentifiers) {
      const oldest = this.identifiers.keys().next().value;
      if (oldest !== undefined) this.identifiers.delete(oldest);
      this.identifiersEvicted += 1;
    }
  }
}
