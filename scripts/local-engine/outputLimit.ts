/**
 * What Piston keeps of one output stream: every chunk, in order, while the total stays within
 * the limit. A chunk that would take the total past the limit is dropped whole (not cut), and
 * the caller kills the process: so 10 MB printed at once gives an empty stdout, not its first
 * kilobyte. Each later chunk is judged on its own, as in Piston's `data` handler.
 */
export class StreamCapture {
  private size = 0;
  private readonly chunks: Buffer[] = [];
  private exceededLimit = false;

  constructor(private readonly maxBytes: number) {}

  /** True when the chunk was kept; false when it was dropped for the limit. */
  offer(chunk: Buffer): boolean {
    if (this.size + chunk.length > this.maxBytes) {
      this.exceededLimit = true;
      return false;
    }
    this.size += chunk.length;
    this.chunks.push(chunk);
    return true;
  }

  get exceeded(): boolean {
    return this.exceededLimit;
  }

  /** Decoded once at the end, so a character split across chunks survives. */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
