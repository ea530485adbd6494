/** The API secrets of one pool (hashes only). */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { PoolSecretRow, SecretStatus } from '../db/tables.js';

export function createSecretQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    listSecrets(): Promise<PoolSecretRow[]> {
      return pool.selectFrom('pool_secrets').selectAll().orderBy('created_at', 'desc').orderBy('id').execute();
    },

    /** The live secret (current or next) with this hash, if any. */
    findLiveSecretByHash(hash: string): Promise<PoolSecretRow | undefined> {
      return pool.selectFrom('pool_secrets').selectAll().where('status', 'in', ['current', 'next']).where('secret_hash', '=', hash).executeTakeFirst();
    },

    /** Answers when the secret was made. */
    async insertSecret(id: string, status: SecretStatus, hash: string): Promise<Date> {
      const row = await pool.insertInto('pool_secrets', { id, status, secret_hash: hash }).returning('created_at').executeTakeFirstOrThrow();
      return row.created_at;
    },

    async moveSecrets(from: SecretStatus, to: SecretStatus): Promise<void> {
      await pool
        .updateTable('pool_secrets')
        .set({ status: to, ...(to === 'revoked' ? { revoked_at: new Date() } : {}) })
        .where('status', '=', from)
        .execute();
    },
  };
}
