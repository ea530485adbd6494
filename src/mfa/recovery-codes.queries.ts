/** A user's recovery codes (user_recovery_codes), as keyed hashes, for one pool. */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';

export function createRecoveryCodeQueries(db: Db, poolId: string) {
  const scoped = poolScoped(db, poolId);
  return {
    /** The new set replaces the old one, used codes included, in one transaction (the caller's, if `db` is one). */
    async replaceRecoveryCodes(userId: string, hashes: readonly string[]): Promise<void> {
      const inTransaction = (work: (trx: Db) => Promise<void>) => (db.isTransaction ? work(db) : db.transaction().execute(work));
      await inTransaction(async (trx) => {
        const inTrx = poolScoped(trx, poolId);
        await inTrx.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute();
        await inTrx
          .insertInto(
            'user_recovery_codes',
            hashes.map((code_hash) => ({ user_id: userId, code_hash })),
          )
          .execute();
      });
    },

    /** Marks an unused code used; false when there is no such unused code (one request wins a race). */
    async useRecoveryCode(userId: string, hash: string, now: Date): Promise<boolean> {
      const result = await scoped
        .updateTable('user_recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async countUnusedRecoveryCodes(userId: string): Promise<number> {
      const row = await scoped
        .selectFrom('user_recovery_codes')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async deleteRecoveryCodes(userId: string): Promise<number> {
      const result = await scoped.deleteFrom('user_recovery_codes').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
