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
        .select(['id', 'uid', 'payload', 'expires_at'])
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

    /**
     * Ends every other session of the account and revokes all its grants and tokens, keeping
     * only the session whose stored uid key is given (the one the user is on).
     */
    async deleteArtifactsOfAccountExcept(accountId: string, keptSessionUidKey: string): Promise<number> {
      const result = await pool
        .deleteFrom('oidc_artifacts')
        .where(sql`payload->>'accountId'`, '=', accountId)
        .where((eb) => eb.or([eb('model', '!=', 'Session'), eb('uid', 'is', null), eb('uid', '!=', keptSessionUidKey)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Ends every other session of the account only (grants and tokens stay: "sign out other devices"). */
    async deleteOtherSessionsOfAccount(accountId: string, keptSessionUidKey: string): Promise<number> {
      const result = await pool
        .deleteFrom('oidc_artifacts')
        .where('model', '=', 'Session')
        .where(sql`payload->>'accountId'`, '=', accountId)
        .where((eb) => eb.or([eb('uid', 'is', null), eb('uid', '!=', keptSessionUidKey)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
