// Runs the work queued under one key one after the other (in call order), so a
// read-modify-write sequence on one resource cannot lose a concurrent update and
// the last write to a file is the last one made. Different keys run in parallel.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(work);
    this.tails.set(key, result);
    const release = () => {
      if (this.tails.get(key) === result) this.tails.delete(key);
    };
    result.then(release, release);
    return result;
  }

  /** Resolves once the work queued under `key` so far has finished (successfully or not). */
  async idle(key: string): Promise<void> {
    await this.tails.get(key)?.catch(() => undefined);
  }
}
