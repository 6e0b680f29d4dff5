/**
 * Who the container's one session belongs to. In a session pool one container is one
 * session, so its files are one folder; the session belongs to the identifier that first
 * gives it files (an upload, or an execution that leaves files behind), and while the folder
 * holds anything, other identifiers are refused. A request without an identifier is the
 * container's own: it may act on the session whoever owns it (pools always send one, so
 * only a caller inside the container or on its port can send none). Kept in memory, never
 * read from disk on the hot path: the container is the session and lives no longer than it.
 */

/** The owner name of requests without an identifier. */
export const CONTAINER_OWNER = '';

export type OwnershipVerdict = { allowed: true } | { allowed: false };

export class SessionOwnership {
  /** Set while the folder holds files; null with files = found at start, not yet claimed. */
  private currentOwner: string | null = null;
  private holdsFiles: boolean;
  /** Counts additions, so a look that began before one cannot declare the folder empty. */
  private additions = 0;

  constructor(holdsFilesAtStart: boolean) {
    this.holdsFiles = holdsFilesAtStart;
  }

  get owner(): string | null {
    return this.holdsFiles ? this.currentOwner : null;
  }

  get hasFiles(): boolean {
    return this.holdsFiles;
  }

  /**
   * May `identifier` read or change the session? Yes when it owns it, when the folder is
   * empty, when it gives no identifier, and when the files were there before this process
   * started and nobody has claimed them yet (the pool's same identifier after a restart).
   */
  verdict(identifier: string | undefined): OwnershipVerdict {
    if (identifier === undefined || !this.holdsFiles) return { allowed: true };
    if (this.currentOwner === null || this.currentOwner === identifier) return { allowed: true };
    return { allowed: false };
  }

  /**
   * verdict, and when it allows an identifier files nobody has claimed yet (found at start),
   * that identifier claims them: from then on they are its own.
   */
  admit(identifier: string | undefined): OwnershipVerdict {
    const verdict = this.verdict(identifier);
    if (
      verdict.allowed &&
      this.holdsFiles &&
      this.currentOwner === null &&
      identifier !== undefined
    ) {
      this.currentOwner = identifier;
    }
    return verdict;
  }

  /**
   * The folder now holds files that `identifier` gave: it owns them unless someone does.
   * Called before the files appear, so nobody else's look can claim them first.
   */
  filesAdded(identifier: string | undefined): void {
    if (!this.holdsFiles || this.currentOwner === null) {
      this.currentOwner = identifier ?? CONTAINER_OWNER;
    }
    this.holdsFiles = true;
    this.additions += 1;
  }

  /** Taken when a look at the folder starts; handed back to `observed`. */
  get generation(): number {
    return this.additions;
  }

  /**
   * What a look at the folder, begun at `generation`, found after `identifier` acted on it
   * (an execution, a delete). An empty folder frees the container for any identifier,
   * unless files were added since the look began.
   */
  observed(holdsFiles: boolean, identifier: string | undefined, generation: number): void {
    if (holdsFiles) {
      if (!this.holdsFiles || this.currentOwner === null) {
        this.currentOwner = identifier ?? CONTAINER_OWNER;
      }
      this.holdsFiles = true;
    } else if (generation === this.additions) {
      this.release();
    }
  }

  release(): void {
    this.holdsFiles = false;
    this.currentOwner = null;
  }
}
