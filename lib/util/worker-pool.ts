// Bounded concurrency for async work: the runner's stages (`-j N`) and the hasher's file reads.

/**
 * Runs at most `limit` tasks at a time, in the order they were submitted.
 *
 * What it does NOT guarantee: that tasks finish in order, that a task's failure stops the others
 * (a rejected task rejects only its own promise; the caller decides what a failure means), or
 * fairness beyond first-come-first-served. It never cancels a running task: aborting is the
 * task's own business (the runner kills its child process).
 */
export class WorkerPool {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`worker pool limit must be >= 1, got ${limit}`);
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

/** Maps `items` through `fn` with at most `limit` calls in flight; rejects on the first error. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  }
  const lanes = Array.from({ length: Math.min(limit, items.length) }, () => lane());
  await Promise.all(lanes);
  return results;
}
