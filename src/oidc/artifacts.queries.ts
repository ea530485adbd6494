/**
 * node-oidc-provider artifacts of one pool: sessions, interactions, grants, codes, tokens …
 * Keys, uids and user codes arrive here in their stored form (keyed hashes: artifact-at-rest.ts).
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { ASYNC_COMMIT, preparedStatement } from '../db/prepared.js';

export interface ArtifactRow {
  /** The row's stored key (found by uid or user code, the caller does not know it). */
  id?: string;
  payload: Record<string, unknown>;
  consumed_at: Date | null;
  expires_at: Date | null;
}

// Statements every sign-in and token exchange runs, with fixed text, prepared once per connection
// (ADR 0703): each fixes every column of a unique key (the primary key; the uid, a keyed hash of a
// random value, through its index), so its only plan is that index's, whatever the table holds
// (ADR 0712). The column lists are explicit: a column added by a later migration does not change
// what a statement prepared before it returns.
const byId = preparedStatement<ArtifactRow>(
  'tarn_artifact_by_id',
  `select payload, consumed_at, expires_at from oidc_artifacts
   where pool_id = $1 and model = $2 and id = $3 and (expires_at is null or expires_at > now())`,
);
const byUid = preparedStatement<ArtifactRow>(
  'tarn_artifact_by_uid',
  `select id, payload, consumed_at, expires_at from oidc_artifacts
   where pool_id = $1 and model = $2 and uid = $3 and (expires_at is null or expires_at > now())`,
);
const consume = preparedStatement('tarn_consume_artifact', 'update oidc_artifacts set consumed_at = now() where pool_id = $1 and model = $2 and id = $3');
const destroy = preparedStatement('tarn_destroy_artifact', 'delete from oidc_artifacts where pool_id = $1 and model = $2 and id = $3');
/** The prepared statements by key and the index each must use (test/oidc/artifact-plans.test.ts holds them to it). */
export const ARTIFACT_KEY_STATEMENTS = [
  { statement: byId, index: 'oidc_artifacts_pkey' },
  { statement: byUid, index: 'oidc_artifacts_uid' },
  { statement: consume, index: 'oidc_artifacts_pkey' },
  { statement: destroy, index: 'oidc_artifacts_pkey' },
] as const;

export function createArtifactQueries(db: Db, poolId: string, model: string) {
  const live = () =>
    db
      .selectFrom('oidc_artifacts')
      .select(['id', 'payload', 'consumed_at', 'expires_at'])
      .where('pool_id', '=', poolId)
      .where('model', '=', model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));

  return {
    async findArtifactByUid(uid: string): Promise<ArtifactRow | undefined> {
      return (await byUid.run(db, [poolId, model, uid])).rows[0];
    },

    findArtifactByUserCode(userCode: string): Promise<ArtifactRow | undefined> {
      return live().where('user_code', '=', userCode).executeTakeFirst();
    },

    async consumeArtifact(id: string): Promise<void> {
      await consume.run(db, [poolId, model, id]);
    },

    async destroyArtifact(id: string): Promise<void> {
      await destroy.run(db, [poolId, model, id]);
    },
  };
}

/** A live artifact by its key (the finder's lookup when it goes alone: artifact-finder.ts). */
export async function findArtifactById(db: Db, poolId: string, model: string, id: string): Promise<ArtifactRow | undefined> {
  return (await byId.run(db, [poolId, model, id])).rows[0];
}

export interface NewArtifact {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  expiresAt: Date | null;
  /** Lookup keys (stored form) for findArtifactByUid / findArtifactByUserCode. */
  uid: string | null;
  userCode: string | null;
}

/**
 * Stores new or changed artifacts of one pool in one statement, with asynchronous commit
 * (ADR 0700): the statement returns without waiting for its WAL flush, which on our disks
 * is most of a token request (≈ 7 ms of fsync against ≈ 0.3 ms of work). Visibility is
 * unchanged (other connections see the rows at once); only durability is delayed, by at
 * most 3 × wal_writer_delay, and only if PostgreSQL itself crashes: then a just-issued
 * token or session is lost and the user signs in again. Consuming, destroying and revoking
 * stay synchronous, so one-time use and revocation survive a crash.
 * (ASYNC_COMMIT, prepared.ts.) The same SQL runs on PGlite (where it changes nothing).
 * A key may appear once only (ON CONFLICT cannot touch a row twice in one statement).
 * One text for any number of rows (a JSON array of them), prepared once per connection
 * (ADR 0703). grant_id is the payload's own value (oidc-provider only ever puts a string
 * there); uid and user_code are given with the row (keyed hashes, ADR 0709).
 */
const upsert = preparedStatement(
  'tarn_upsert_artifacts',
  `${ASYNC_COMMIT}
   insert into oidc_artifacts (pool_id, model, id, payload, grant_id, user_code, uid, expires_at)
   select $1, a.model, a.id, a.payload, a.payload->>'grantId', a.user_code, a.uid, to_timestamp(a.expires_at / 1000.0)
   from async_commit, jsonb_to_recordset($2::jsonb) as a(model text, id text, payload jsonb, expires_at bigint, uid text, user_code text)
   on conflict (pool_id, model, id) do update
     set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
         uid = excluded.uid, expires_at = excluded.expires_at`,
);

export async function upsertArtifacts(db: Db, poolId: string, artifacts: NewArtifact[]): Promise<void> {
  // One JSON document for the whole batch: one serialisation here, one parse there.
  // (expiry as epoch milliseconds: serialising a Date costs more than the rest of a token's row)
  const rows = artifacts.map(({ model, id, payload, expiresAt, uid, userCode }) => ({
    model,
    id,
    payload,
    expires_at: expiresAt?.getTime() ?? null,
    uid,
    user_code: userCode,
  }));
  await upsert.run(db, [poolId, JSON.stringify(rows)]);
}

/** Every artifact of a grant, whatever its model (revokeByGrantId revokes them all). */
export async function deleteArtifactsOfGrant(db: Db, poolId: string, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_artifacts').where('pool_id', '=', poolId).where('grant_id', '=', grantId).execute();
}

/** Removes expired artifacts (all pools); returns how many. */
export async function purgeExpiredArtifacts(db: Db, limit = 5000): Promise<number> {
  const result = await sql`
    delete from oidc_artifacts where ctid in (
      select ctid from oidc_artifacts where expires_at < now() limit ${limit}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
