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

    /** The account's sessions (the provider's Session artifacts), newest expiry first. */
    listSessionsOfAccount(accountId: string) {
      return pool
        .selectFrom('oidc_artifacts')
        .select(['id', 'payload', 'expires_at'])
        .where('model', '=', 'Session')
        .where(sql`payload->>'accountId'`, '=', accountId)
        .orderBy('expires_at', 'desc')
        .execute();
    },

    /** Ends one session of the account (its stored key); false when it is not one of theirs. */
    async deleteSessionOfAccount(accountId: string, key: string): Promise<boolean> {
      const result = await pool
        .deleteFrom('oidc_artifacts')
        .where('model', '=', 'Session')
        .where('id', '=', key)
        .where(sql`payload->>'accountId'`, '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
