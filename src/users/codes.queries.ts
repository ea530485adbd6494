/**
 * One-time codes of one pool (invitations, registration verification, email sign-in).
 * Only hashes are stored. A code is live while unconsumed and unexpired; consuming is
 * conditional (`consumed_at IS NULL`), so two concurrent uses cannot both succeed.
 * "Now" comes from the caller's clock, never from the database, so tests can move time.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { CodePurpose, OneTimeCodeRow } from '../db/tables.js';
import { emailKey, normalizeEmail } from './email.js';

export interface NewCode {
  id: string;
  purpose: CodePurpose;
  userId: string | null;
  email: string;
  codeHash: string;
  tokenHash: string | null;
  payload: Record<string, unknown>;
  /** Keyed hash of the interaction the code belongs to (registration), or null. */
  binding: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export function createCodeQueries(db: Db, poolId: string) {
  return {
    async insertCode(code: NewCode): Promise<void> {
      await db
        .insertInto('one_time_codes')
        .values({
          pool_id: poolId,
          id: code.id,
          purpose: code.purpose,
          user_id: code.userId,
          email: normalizeEmail(code.email),
          code_hash: code.codeHash,
          token_hash: code.tokenHash,
          payload: JSON.stringify(code.payload),
          binding: code.binding,
          created_at: code.createdAt,
          expires_at: code.expiresAt,
        })
        .execute();
    },

    /** The code behind a link token, live or not (the page says which). */
    findCodeByToken(tokenHash: string): Promise<OneTimeCodeRow | undefined> {
      return db.selectFrom('one_time_codes').selectAll().where('pool_id', '=', poolId).where('token_hash', '=', tokenHash).executeTakeFirst();
    },

    /** The newest unconsumed code for this purpose, email and binding (expiry is the caller's check). */
    findLatestCode(purpose: CodePurpose, email: string, binding: string | null): Promise<OneTimeCodeRow | undefined> {
      return db
        .selectFrom('one_time_codes')
        .selectAll()
        .where('pool_id', '=', poolId)
        .where('purpose', '=', purpose)
        .where(sql`lower(email)`, '=', emailKey(email))
        .where(sql<boolean>`binding is not distinct from ${binding}`)
        .where('consumed_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    /** Counts one attempt and returns the new count (atomic, so parallel guesses all count). */
    async countAttempt(id: string): Promise<number> {
      const row = await db
        .updateTable('one_time_codes')
        .set({ attempts: sql`attempts + 1` })
        .where('pool_id', '=', poolId)
        .where('id', '=', id)
        .returning('attempts')
        .executeTakeFirst();
      return row?.attempts ?? Number.MAX_SAFE_INTEGER;
    },

    /** True for the one caller that consumed it. */
    async consumeCode(id: string, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('one_time_codes')
        .set({ consumed_at: now })
        .where('pool_id', '=', poolId)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** A new code replaces the previous ones of the same binding: they stop working at once. Other bindings' codes stay. */
    async deleteCodesFor(purpose: CodePurpose, email: string, binding: string | null): Promise<void> {
      await db
        .deleteFrom('one_time_codes')
        .where('pool_id', '=', poolId)
        .where('purpose', '=', purpose)
        .where(sql`lower(email)`, '=', emailKey(email))
        .where(sql<boolean>`binding is not distinct from ${binding}`)
        .execute();
    },

    async deleteCodesOfUser(userId: string, purpose: CodePurpose): Promise<void> {
      await db.deleteFrom('one_time_codes').where('pool_id', '=', poolId).where('user_id', '=', userId).where('purpose', '=', purpose).execute();
    },
  };
}

/**
 * Maintenance across pools (like purgeExpiredArtifacts): removes expired one-time codes and
 * mail requests older than a day (longer than any mail limit's window). Expired rows are
 * already refused or no longer counted; this reclaims space.
 */
export async function purgeExpiredCodes(db: Db, limit = 5000): Promise<number> {
  const codes = await sql`
    delete from one_time_codes where ctid in (
      select ctid from one_time_codes where expires_at < now() limit ${limit}
    )`.execute(db);
  const requests = await sql`
    delete from mail_requests where ctid in (
      select ctid from mail_requests where requested_at < now() - interval '1 day' limit ${limit}
    )`.execute(db);
  return Number(codes.numAffectedRows ?? 0) + Number(requests.numAffectedRows ?? 0);
}
