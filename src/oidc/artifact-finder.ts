/**
 * Finds provider artifacts by id, the lookups of one event-loop turn coalesced into one
 * query (ADR 0701).
 *
 * oidc-provider looks artifacts up in bursts: introspection without a token_type_hint asks
 * for the token as an AccessToken, a ClientCredentials token and a RefreshToken at once,
 * and under load many requests' lookups (tokens, sessions, grants) arrive in the same turn.
 * Each query costs a round trip and its share of driver and protocol work on both ends; one
 * query answers them all through the primary key (statement-batcher.ts: one query in
 * flight, the lookups that arrive meanwhile go together in the next; a lookup alone is the
 * plain primary-key query). Every waiter gets its own row (its own parsed payload), even for
 * the same id, so one caller changing its payload object cannot change another's.
 * Bound to one pool: every key carries the pool id, and the query filters on it.
 */
import type { Db } from '../db/database.js';
import { fixedStatement } from '../db/prepared.js';
import { findArtifactById, type ArtifactRow } from './artifacts.queries.js';
import { createBatchedLookup } from '../db/statement-batcher.js';

export type ArtifactFinder = (model: string, id: string) => Promise<ArtifactRow | undefined>;

const findArtifacts = fixedStatement<ArtifactRow & { n: number }>(
  'tarn_find_artifacts',
  // Planned on every run, not prepared: a plan made while the table was nearly empty (a
  // sequential scan) would stay in use on a connection long after the table has grown.
  `select k.n::int as n, a.payload, a.consumed_at, a.expires_at
   from unnest($2::text[], $3::text[]) with ordinality as k(model, id, n)
   cross join lateral (
     select payload, consumed_at, expires_at from oidc_artifacts
     where pool_id = $1 and model = k.model and id = k.id and (expires_at is null or expires_at > now())
   ) a`,
);

export function createArtifactFinder(db: Db, poolId: string): ArtifactFinder {
  const find = createBatchedLookup<{ model: string; id: string }, ArtifactRow>(
    ({ model, id }) => findArtifactById(db, poolId, model, id),
    async (lookups) => (await findArtifacts.run(db, [poolId, lookups.map((l) => l.model), lookups.map((l) => l.id)])).rows,
  );
  return (model, id) => find({ model, id });
}
