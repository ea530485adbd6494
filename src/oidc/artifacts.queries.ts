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
    async upsertArtifact(id: string, payload: Record<string, unknown>, expiresAt: Date | null): Promise<void> {
      const row = {
        pool_id: poolId,
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        expires_at: expiresAt,
      };
      await db
        .insertInto('oidc_artifacts')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['pool_id', 'model', 'id']).doUpdateSet({
            payload: row.payload,
            grant_id: row.grant_id,
            user_code: row.user_code,
            uid: row.uid,
            expires_at: row.expires_at,
          }),
        )
        .execute();
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
