/** The grant each user gave each application of one pool (consent_grants, docs/adr/0401). */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';

export function createConsentGrantQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    async findGrantId(userId: string, clientId: string): Promise<string | undefined> {
      const row = await pool.selectFrom('consent_grants').select('grant_id').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
      return row?.grant_id;
    },
    async rememberGrant(userId: string, clientId: string, grantId: string, implicit: boolean): Promise<void> {
      await pool
        .insertInto('consent_grants', { user_id: userId, client_id: clientId, grant_id: grantId, implicit })
        .onConflict((conflict) => conflict.columns(['pool_id', 'user_id', 'client_id']).doUpdateSet({ grant_id: grantId, implicit, updated_at: sql`now()` }))
        .execute();
    },
    async forgetGrant(userId: string, clientId: string): Promise<void> {
      await pool.deleteFrom('consent_grants').where('user_id', '=', userId).where('client_id', '=', clientId).execute();
    },
  };
}
