/**
 * Finds provider artifacts by id, the lookups of one event-loop turn coalesced into one
 * query (issue 7, ADR 0701).
 *
 * oidc-provider looks artifacts up in bursts: introspection without a token_type_hint asks
 * for the token as an AccessToken, a ClientCredentials token and a RefreshToken at once,
 * and under load many requests' lookups (tokens, sessions, grants) arrive in the same turn.
 * Each query costs a round trip and its share of driver and protocol work on both ends; one
 * query per turn answers them all through the primary key. Lookups are queued until
 * setImmediate (after the current turn's I/O and promise callbacks), so nothing waits for a
 * timer. Every waiter gets its own row (its own parsed payload), even for the same id, so
 * one caller changing its payload object cannot change another's.
 * Bound to one pool: every key carries the pool id, and the query filters on it.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { ArtifactRow } from './artifacts.queries.js';

/** Lookups per query at most; a bigger burst is split. */
const MAX_BATCH = 100;

interface Waiter {
  model: string;
  id: string;
  resolve(row: ArtifactRow | undefined): void;
  reject(error: unknown): void;
}

export type ArtifactFinder = (model: string, id: string) => Promise<ArtifactRow | undefined>;

export function createArtifactFinder(db: Db, poolId: string): ArtifactFinder {
  let queued: Waiter[] = [];

  async function run(batch: Waiter[]): Promise<void> {
    const keys = sql.join(batch.map((waiter, n) => sql`(${waiter.model}, ${waiter.id}, ${n}::int)`));
    const { rows } = await sql<ArtifactRow & { n: number }>`
      select k.n, a.payload, a.consumed_at, a.expires_at
      from (values ${keys}) as k(model, id, n)
      join oidc_artifacts a on a.pool_id = ${poolId} and a.model = k.model and a.id = k.id
      where a.expires_at is null or a.expires_at > now()`.execute(db);
    const found = new Map(rows.map(({ n, ...row }) => [n, row]));
    batch.forEach((waiter, n) => waiter.resolve(found.get(n)));
  }

  function flush(): void {
    const waiting = queued;
    queued = [];
    for (let start = 0; start < waiting.length; start += MAX_BATCH) {
      const batch = waiting.slice(start, start + MAX_BATCH);
      run(batch).catch((error: unknown) => batch.forEach((waiter) => waiter.reject(error)));
    }
  }

  return function findArtifact(model, id) {
    return new Promise((resolve, reject) => {
      if (queued.length === 0) setImmediate(flush);
      queued.push({ model, id, resolve, reject });
    });
  };
}
