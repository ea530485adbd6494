/** The provider artifacts (sessions, grants, tokens, codes) of one account of one pool. */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

export function createAccountArtifactQueries(db: Db, poolId: string) {
  return {
    /** Ends every session and revokes every grant and token of the account. */
    async deleteArtifactsOfAccount(accountId: string): Promise<number> {
      const result = await db
        .deleteFrom('oidc_artifacts')
        .where('pool_id', '=', poolId)
        .where(sql`payload->>'accountId'`, '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
