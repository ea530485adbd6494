/**
 * Stores provider artifacts, the writes of one event-loop turn coalesced into one statement
 * (issue 7, ADR 0701): under load many requests issue tokens, sessions and grants in the
 * same turn, and one multi-row upsert costs one round trip instead of one each.
 * Writes are queued until setImmediate (nothing waits for a timer). Two writes of the same
 * artifact in one turn keep the later payload, as if run in order. A failed statement fails
 * every write in it (they all belong to the same pool, so they fail for the same reason).
 */
import type { Db } from '../db/database.js';
import { upsertArtifacts, type NewArtifact } from './artifacts.queries.js';

/** Writes per statement at most; a bigger burst is split. */
const MAX_BATCH = 100;

interface Pending {
  artifact: NewArtifact;
  resolve(): void;
  reject(error: unknown): void;
}

export type ArtifactWriter = (artifact: NewArtifact) => Promise<void>;

export function createArtifactWriter(db: Db, poolId: string): ArtifactWriter {
  let queued: Pending[] = [];

  async function run(batch: Pending[]): Promise<void> {
    const latest = new Map<string, NewArtifact>();
    for (const { artifact } of batch) latest.set(`${artifact.model}\u0000${artifact.id}`, artifact);
    await upsertArtifacts(db, poolId, [...latest.values()]);
  }

  function flush(): void {
    const waiting = queued;
    queued = [];
    for (let start = 0; start < waiting.length; start += MAX_BATCH) {
      const batch = waiting.slice(start, start + MAX_BATCH);
      run(batch).then(
        () => batch.forEach((pending) => pending.resolve()),
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      );
    }
  }

  return function writeArtifact(artifact) {
    return new Promise((resolve, reject) => {
      if (queued.length === 0) setImmediate(flush);
      queued.push({ artifact, resolve, reject });
    });
  };
}
