/** The API secrets of one pool (hashes only). */
import type { Db } from '../db/database.js';
import type { PoolSecretRow, SecretStatus } from '../db/tables.js';

export function createSecretQueries(db: Db, poolId: string) {
  return {
    listSecrets(): Promise<PoolSecretRow[]> {
      return db.selectFrom('pool_secrets').selectAll().where('pool_id', '=', poolId).orderBy('created_at', 'desc').orderBy('id').execute();
    },

    /** The live secret (current or next) with this hash, if any. */
    findLiveSecretByHash(hash: string): Promise<PoolSecretRow | undefined> {
      return db
        .selectFrom('pool_secrets')
        .selectAll()
        .where('pool_id', '=', poolId)
        .where('status', 'in', ['current', 'next'])
        .where('secret_hash', '=', hash)
        .executeTakeFirst();
    },

    async insertSecret(id: string, status: SecretStatus, hash: string): Promise<void> {
      await db.insertInto('pool_secrets').values({ pool_id: poolId, id, status, secret_hash: hash }).execute();
    },

    async moveSecrets(from: SecretStatus, to: SecretStatus): Promise<void> {
      await db
        .updateTable('pool_secrets')
        .set({ status: to, ...(to === 'revoked' ? { revoked_at: new Date() } : {}) })
        .where('pool_id', '=', poolId)
        .where('status', '=', from)
        .execute();
    },
  };
}
