/** The provider artifacts (sessions, grants, tokens, codes) of one account of one pool. */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';

export function createAccountArtifactQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    /** Ends every session and revokes every grant and token of the account. */
    async deleteArtifactsOfAccount(accountId: string): Promise<number> {
      const result = await pool
        .deleteFrom('oidc_artifacts')
        .where(sql`payload->>'accountId'`, '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
