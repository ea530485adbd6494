/**
 * Stores provider artifacts, the writes of one event-loop turn coalesced into one statement
 * (ADR 0701): under load many requests issue tokens, sessions and grants in the
 * same turn, and one multi-row upsert costs one round trip instead of one each.
 * Batching is statement-batcher.ts's (one statement in flight, batches grow with the load).
 * Two writes of the same artifact in one batch keep the later payload, as if run in order.
 * A statement that fails on a data error is run again for each write alone, so a value one
 * request brought fails that request only (statement-batcher.ts); any other failure fails
 * every write in it (they all belong to the same pool, so they fail for the same reason).
 */
import type { Db } from '../db/database.js';
import { upsertArtifacts, type NewArtifact } from './artifacts.queries.js';
import { createStatementBatcher } from '../db/statement-batcher.js';

export type ArtifactWriter = (artifact: NewArtifact) => Promise<void>;

export function createArtifactWriter(db: Db, poolId: string): ArtifactWriter {
  const batcher = createStatementBatcher<NewArtifact>(async (artifacts) => {
    const latest = new Map<string, NewArtifact>();
    for (const artifact of artifacts) latest.set(`${artifact.model}\u0000${artifact.id}`, artifact);
    await upsertArtifacts(db, poolId, [...latest.values()]);
  });
  return (artifact) => batcher.add(artifact);
}
