/** Wrong second factors of a user since the last right one (user_factor_failures), for one pool. */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';

export function createFactorFailureQueries(db: Db, poolId: string) {
  const scoped = poolScoped(db, poolId);
  return {
    /** One more wrong second factor, whichever; the count after it (one statement, so racing guesses all count). */
    async countFailure(userId: string): Promise<number> {
      const row = await scoped
        .insertInto('user_factor_failures', { user_id: userId, failures: 1 })
        .onConflict((conflict) => conflict.columns(['pool_id', 'user_id']).doUpdateSet((eb) => ({ failures: eb('user_factor_failures.failures', '+', 1) })))
        .returning('failures')
        .executeTakeFirst();
      return row?.failures ?? 0;
    },

    async resetFailures(userId: string): Promise<void> {
      await scoped.deleteFrom('user_factor_failures').where('user_id', '=', userId).execute();
    },
  };
}
