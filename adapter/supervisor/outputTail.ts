/**
 * The last lines an engine wrote to one stream. Kept so that an exit can be explained with
 * what the engine said just before it (Piston prints its fatal reason, such as "Combined
 * cgroup v1+v2 mode is not supported", on stderr and exits).
 */
export class OutputTail {
  private readonly buffer: string[] = [];

  constructor(
    private readonly maxLines = 20,
    /** Lines are cut so one runaway line (a stack dump, a binary blob) cannot flood a reason. */
    private readonly maxLineLength = 1_000,
  ) {}

  push(line: string): void {
    const trimmed =
      line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}…` : line;
    this.buffer.push(trimmed);
    if (this.buffer.length > this.maxLines) this.buffer.shift();
  }

  /** Newest last; a copy, so callers may keep it after the buffer moves on. */
  lines(): string[] {
    return [...this.buffer];
  }
}
