/**
 * Passkeys and WebAuthn challenges of one pool. Every statement filters by pool_id, so
 * another pool's credential or challenge is simply not there.
 * A challenge is taken with DELETE … RETURNING: two requests racing with the same
 * challenge cannot both get it (single use), and an expired one is never returned.
 */
import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { PasskeyRow, PasskeyTable, WebauthnChallengeRow, WebauthnChallengeTable } from '../db/tables.js';

export type NewPasskey = Omit<Insertable<PasskeyTable>, 'pool_id'>;
export type NewChallenge = Omit<Insertable<WebauthnChallengeTable>, 'pool_id'>;

export interface PasskeyUse {
  counter: number;
  backed_up: boolean;
}

export function createPasskeyQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    findPasskey(id: string): Promise<PasskeyRow | undefined> {
      return pool.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
    },

    findPasskeyByCredentialId(credentialId: string): Promise<PasskeyRow | undefined> {
      return pool.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
    },

    listUserPasskeys(userId: string): Promise<PasskeyRow[]> {
      return pool.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    },

    listUserPasskeysPage(userId: string, limit: number, after: string | undefined): Promise<PasskeyRow[]> {
      let query = pool.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('id').limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      return query.execute();
    },

    async countUserPasskeys(userId: string): Promise<number> {
      const row = await pool
        .selectFrom('passkeys')
        .select((eb) => eb.fn.countAll<string | number>().as('count'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    insertPasskey(row: NewPasskey): Promise<PasskeyRow> {
      return pool.insertInto('passkeys', row).returningAll().executeTakeFirstOrThrow();
    },

    /** Records a verified use; the counter only moves forward (the WHERE guards against a racing older assertion). */
    async recordPasskeyUse(id: string, previousCounter: number, use: PasskeyUse): Promise<boolean> {
      const result = await pool
        .updateTable('passkeys')
        .set({ counter: use.counter, backed_up: use.backed_up, last_used_at: new Date() })
        .where('id', '=', id)
        .where('counter', '=', previousCounter)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    renamePasskey(userId: string, id: string, name: string): Promise<PasskeyRow | undefined> {
      return pool.updateTable('passkeys').set({ name }).where('user_id', '=', userId).where('id', '=', id).returningAll().executeTakeFirst();
    },

    async deletePasskey(userId: string, id: string): Promise<boolean> {
      const result = await pool.deleteFrom('passkeys').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async insertChallenge(row: NewChallenge): Promise<void> {
      await pool.insertInto('webauthn_challenges', row).execute();
    },

    /** The challenge, removed in the same statement; undefined when unknown, used or expired. */
    takeChallenge(challenge: string, now: Date): Promise<WebauthnChallengeRow | undefined> {
      return pool.deleteFrom('webauthn_challenges').where('challenge', '=', challenge).where('expires_at', '>', now).returningAll().executeTakeFirst();
    },

    async purgeExpiredChallenges(now: Date): Promise<void> {
      await pool.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute();
    },
  };
}
