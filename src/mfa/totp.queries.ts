/** A user's authenticator-app secret (user_totp), for one pool. */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';

export function createTotpQueries(db: Db, poolId: string) {
  const scoped = poolScoped(db, poolId);
  return {
    async findTotp(userId: string) {
      const row = await scoped.selectFrom('user_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
      return row && { ...row, last_step: Number(row.last_step) };
    },

    /** A new enrolment replaces an unconfirmed one; a confirmed one stays until removed. */
    async upsertPendingTotp(userId: string, secretEnc: string): Promise<boolean> {
      const result = await scoped
        .insertInto('user_totp', { user_id: userId, secret_enc: secretEnc })
        .onConflict((conflict) =>
          conflict
            .columns(['pool_id', 'user_id'])
            .doUpdateSet({ secret_enc: secretEnc, last_step: 0, created_at: new Date() })
            .where('user_totp.confirmed_at', 'is', null),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /**
     * Records an accepted step, only if it is later than the last one: of two requests with
     * the same code, one wins (RFC 6238 §5.2, "the verifier MUST NOT accept the second attempt").
     */
    async acceptStep(userId: string, step: number, confirm: boolean): Promise<boolean> {
      let update = scoped.updateTable('user_totp').set({ last_step: step, failures: 0 }).where('user_id', '=', userId).where('last_step', '<', step);
      update = confirm ? update.set({ confirmed_at: new Date() }).where('confirmed_at', 'is', null) : update.where('confirmed_at', 'is not', null);
      const result = await update.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** One more wrong code; the count after it. */
    async countFailure(userId: string): Promise<number> {
      const row = await scoped
        .updateTable('user_totp')
        .set((eb) => ({ failures: eb('failures', '+', 1) }))
        .where('user_id', '=', userId)
        .returning('failures')
        .executeTakeFirst();
      return row?.failures ?? 0;
    },

    async resetFailures(userId: string): Promise<void> {
      await scoped.updateTable('user_totp').set({ failures: 0 }).where('user_id', '=', userId).execute();
    },

    async deleteTotp(userId: string): Promise<boolean> {
      const result = await scoped.deleteFrom('user_totp').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
