interface Pending<Request, Result> {
  request: Request;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/** How a {@link Batcher} runs and shapes its batches. */
export interface BatcherOptions<Request, Result> {
  /** Runs requests together; answers one result per request, in order. */
  execute(requests: Request[]): Promise<Result[]>;
  /** Requests with the same key never share a batch nor run at once, and keep their order. */
  keyOf(request: Request): string;
  /** Most batches running at once. */
  lanes: number;
  /** Most requests in one batch. */
  maxBatch: number;
}

/**
 * Group commit for hot writes: requests made in the same turn of the event loop, and those made
 * while every lane is busy, are merged into the next batch, so a burst of N writes costs a few
 * statements and one commit instead of N of each. A lone request waits only for the end of the
 * turn it was made in (`setImmediate`). When a batch fails, its requests run again one by one, in
 * order, so only the request at fault fails.
 */
export class Batcher<Request, Result> {
  private queue: Pending<Request, Result>[] = [];
  private readonly busyKeys = new Set<string>();
  private running = 0;
  private dispatchPending = false;

  constructor(private readonly options: BatcherOptions<Request, Result>) {}

  /** Queues `request`; resolves with its own result. */
  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      // A burst (e.g. every run of a claim starting) is made over many callbacks of one turn:
      // dispatching at its end sends it as one batch rather than a first request alone per lane.
      if (!this.dispatchPending) {
        this.dispatchPending = true;
        setImmediate(() => {
          this.dispatchPending = false;
          this.dispatch();
        });
      }
    });
  }

  private dispatch(): void {
    while (this.running < this.options.lanes) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.running += 1;
      void this.flush(batch).finally(() => {
        this.running -= 1;
        for (const pending of batch) this.busyKeys.delete(this.options.keyOf(pending.request));
        this.dispatch();
      });
    }
  }

  /** The oldest requests whose keys are neither busy nor already taken, up to `maxBatch`. */
  private take(): Pending<Request, Result>[] {
    const batch: Pending<Request, Result>[] = [];
    const rest: Pending<Request, Result>[] = [];
    const blocked = new Set<string>();
    for (const pending of this.queue) {
      const key = this.options.keyOf(pending.request);
      if (batch.length < this.options.maxBatch && !this.busyKeys.has(key) && !blocked.has(key)) {
        batch.push(pending);
        this.busyKeys.add(key);
      } else {
        // A later request of a held-back key must wait behind it.
        blocked.add(key);
        rest.push(pending);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async flush(batch: Pending<Request, Result>[]): Promise<void> {
    try {
      const results = await this.options.execute(batch.map((pending) => pending.request));
      batch.forEach((pending, i) => pending.resolve(results[i] as Result));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One after the other, so that the requests still reach the database in call order.
      for (const pending of batch) await this.flush([pending]);
    }
  }
}
