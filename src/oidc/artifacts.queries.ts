/** node-oidc-provider artifacts of one pool: sessions, interactions, grants, codes, tokens … */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

export interface ArtifactRow {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
  expires_at: Date | null;
}

export function createArtifactQueries(db: Db, poolId: string, model: string) {
  const live = () =>
    db
      .selectFrom('oidc_artifacts')
      .select(['payload', 'consumed_at', 'expires_at'])
      .where('pool_id', '=', poolId)
      .where('model', '=', model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));

  return {
    /** Stores a new or changed artifact (asynchronous commit: see upsertArtifacts). */
    async upsertArtifact(id: string, payload: Record<string, unknown>, expiresAt: Date | null): Promise<void> {
      await upsertArtifacts(db, poolId, [{ model, id, payload, expiresAt }]);
    },

    findArtifact(id: string): Promise<ArtifactRow | undefined> {
      return live().where('id', '=', id).executeTakeFirst();
    },

    findArtifactByUid(uid: string): Promise<ArtifactRow | undefined> {
      return live().where('uid', '=', uid).executeTakeFirst();
    },

    findArtifactByUserCode(userCode: string): Promise<ArtifactRow | undefined> {
      return live().where('user_code', '=', userCode).executeTakeFirst();
    },

    async consumeArtifact(id: string): Promise<void> {
      await db
        .updateTable('oidc_artifacts')
        .set({ consumed_at: sql<Date>`now()` })
        .where('pool_id', '=', poolId)
        .where('model', '=', model)
        .where('id', '=', id)
        .execute();
    },

    async destroyArtifact(id: string): Promise<void> {
      await db.deleteFrom('oidc_artifacts').where('pool_id', '=', poolId).where('model', '=', model).where('id', '=', id).execute();
    },
  };
}

export interface NewArtifact {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  expiresAt: Date | null;
}

/**
 * Stores new or changed artifacts of one pool in one statement, with asynchronous commit
 * (ADR 0700): the statement returns without waiting for its WAL flush, which on our disks
 * is most of a token request (≈ 7 ms of fsync against ≈ 0.3 ms of work). Visibility is
 * unchanged (other connections see the rows at once); only durability is delayed, by at
 * most 3 × wal_writer_delay, and only if PostgreSQL itself crashes: then a just-issued
 * token or session is lost and the user signs in again. Consuming, destroying and revoking
 * stay synchronous, so one-time use and revocation survive a crash.
 * set_config(…, true) is local to this statement's own transaction; the CTE is selected
 * from so that it runs. The same SQL runs on PGlite (where it changes nothing).
 * A key may appear once only (ON CONFLICT cannot touch a row twice in one statement).
 */
export async function upsertArtifacts(db: Db, poolId: string, artifacts: NewArtifact[]): Promise<void> {
  const rows = artifacts.map(({ model, id, payload, expiresAt }) => {
    const grantId = typeof payload.grantId === 'string' ? payload.grantId : null;
    const userCode = typeof payload.userCode === 'string' ? payload.userCode : null;
    const uid = typeof payload.uid === 'string' ? payload.uid : null;
    return sql`(${model}, ${id}, ${JSON.stringify(payload)}, ${grantId}, ${userCode}, ${uid}, ${expiresAt})`;
  });
  await sql`
    with async_commit as (select set_config('synchronous_commit', 'off', true))
    insert into oidc_artifacts (pool_id, model, id, payload, grant_id, user_code, uid, expires_at)
    select ${poolId}, a.model, a.id, a.payload::jsonb, a.grant_id, a.user_code, a.uid, a.expires_at::timestamptz
    from async_commit, (values ${sql.join(rows)}) as a(model, id, payload, grant_id, user_code, uid, expires_at)
    on conflict (pool_id, model, id) do update
      set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
          uid = excluded.uid, expires_at = excluded.expires_at`.execute(db);
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
