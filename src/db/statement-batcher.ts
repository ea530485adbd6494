/**
 * Coalesces the requests of many callers into few statements (ADR 0701): a
 * statement costs a database round trip, and on a busy server most of that cost is the
 * round trip itself (system calls on both ends), not the rows.
 *
 * At most one statement is in flight. Items that arrive while it runs wait for it and then
 * go out together in the next one, so batches grow with the load on their own: one item per
 * statement when the server is quiet (sent on the next turn of the event loop, no timer),
 * dozens when it is busy. It also keeps statements in the order their items arrived.
 * A statement that fails because of one of its items (a data error: `isolates`) is run again
 * for each item alone, so one request's bad value fails that request only; any other failure
 * (the database away, the pool deleted) fails every item in it. The next batch is still sent.
 */
import { isDataError } from './errors.js';

export interface StatementBatcher<T, R> {
  /** Queues an item; settles with its result when the statement carrying it has run. */
  add(item: T): Promise<R>;
}

interface Queued<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export interface BatcherOptions {
  maxBatch?: number;
  /** Whether a failed statement's error may be one item's fault (then each item is run alone). */
  isolates?: (error: unknown) => boolean;
}

/** `run` answers a batch with one result per item, in the items' order. */
export function createStatementBatcher<T, R = void>(
  run: (items: T[]) => Promise<R[] | void>,
  { maxBatch = 100, isolates = isDataError }: BatcherOptions = {},
): StatementBatcher<T, R> {
  const queued: Queued<T, R>[] = [];
  let inFlight = false;
  let scheduled = false;

  /** Each item alone, one statement after the other (still one in flight). */
  async function runAlone(batch: Queued<T, R>[]): Promise<void> {
    for (const entry of batch) {
      try {
        const results = await run([entry.item]);
        entry.resolve((results ? results[0] : undefined) as R);
      } catch (error) {
        entry.reject(error);
      }
    }
  }

  function send(): void {
    scheduled = false;
    if (inFlight || queued.length === 0) return;
    const batch = queued.splice(0, maxBatch);
    inFlight = true;
    run(batch.map((entry) => entry.item))
      .then(
        (results) => batch.forEach((entry, n) => entry.resolve((results ? results[n] : undefined) as R)),
        (error: unknown) => (batch.length > 1 && isolates(error) ? runAlone(batch) : batch.forEach((entry) => entry.reject(error))),
      )
      .finally(() => {
        inFlight = false;
        schedule();
      });
  }

  /** The next statement goes at the end of this event-loop turn, with all that arrived in it. */
  function schedule(): void {
    if (scheduled || queued.length === 0) return;
    scheduled = true;
    setImmediate(send);
  }

  return {
    add(item) {
      return new Promise((resolve, reject) => {
        queued.push({ item, resolve, reject });
        if (!inFlight) schedule();
      });
    },
  };
}

/**
 * Lookups by key, those of one turn in one statement: a key that goes alone runs `one` (the
 * plain primary-key query, which PostgreSQL plans in a third of the time), several run `many`,
 * whose rows carry `n`, the 1-based position of their key (`unnest … with ordinality`).
 * Every caller gets a row object of its own, even for the same key.
 */
export function createBatchedLookup<K, R extends object>(
  one: (key: K) => Promise<R | undefined>,
  many: (keys: K[]) => Promise<(R & { n: number })[]>,
): (key: K) => Promise<R | undefined> {
  const batcher = createStatementBatcher<K, R | undefined>(async (keys) => {
    if (keys.length === 1) return [await one(keys[0]!)];
    const found = new Map((await many(keys)).map(({ n, ...row }) => [n - 1, row as unknown as R]));
    return keys.map((_, n) => found.get(n));
  });
  return (key) => batcher.add(key);
}
