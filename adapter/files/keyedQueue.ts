/**
 * Runs tasks one at a time per key, in arrival order; tasks under different keys run freely.
 * The file store uses it so two uploads to one session cannot both pass the limits before
 * either lands.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(task);
    // The next task waits for this one to settle, whether it succeeded or not.
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
