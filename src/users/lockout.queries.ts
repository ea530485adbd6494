/**
 * Failed sign-in counters of one pool: per user (lockout) and per client IP (throttling).
 * A failure is counted with one atomic upsert: a failure after the window has ended
 * starts a new window at 1, so counters never need a sweeper to stay correct.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { UserLockoutRow } from '../db/tables.js';

export function createLockoutQueries(db: Db, poolId: string) {
  return {
    findLockout(userId: string): Promise<UserLockoutRow | undefined> {
      return db.selectFrom('user_lockouts').selectAll().where('pool_id', '=', poolId).where('user_id', '=', userId).executeTakeFirst();
    },

    /**
     * Counts a failure of the user at `now` in a window of `windowMs`; locks the user for
     * `windowMs` once `maxAttempts` failures fall in one window. Returns the counter.
     */
    async countUserFailure(userId: string, now: Date, windowMs: number, maxAttempts: number): Promise<UserLockoutRow> {
      const windowStart = new Date(now.getTime() - windowMs);
      const lockedUntil = new Date(now.getTime() + windowMs);
      const fresh = sql<boolean>`user_lockouts.window_started_at <= ${windowStart}`;
      return db
        .insertInto('user_lockouts')
        .values({ pool_id: poolId, user_id: userId, failures: 1, window_started_at: now, locked_until: maxAttempts <= 1 ? lockedUntil : null })
        .onConflict((oc) =>
          oc.columns(['pool_id', 'user_id']).doUpdateSet({
            failures: sql`CASE WHEN ${fresh} THEN 1 ELSE user_lockouts.failures + 1 END`,
            window_started_at: sql`CASE WHEN ${fresh} THEN ${now} ELSE user_lockouts.window_started_at END`,
            locked_until: sql`CASE WHEN (CASE WHEN ${fresh} THEN 1 ELSE user_lockouts.failures + 1 END) >= ${maxAttempts} THEN ${lockedUntil}::timestamptz ELSE user_lockouts.locked_until END`,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async clearLockout(userId: string): Promise<boolean> {
      const result = await db.deleteFrom('user_lockouts').where('pool_id', '=', poolId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Failures from this IP in the current window (0 when the window has ended). */
    async findIpFailures(ip: string, now: Date, windowMs: number): Promise<number> {
      const row = await db
        .selectFrom('ip_throttles')
        .select(['failures', 'window_started_at'])
        .where('pool_id', '=', poolId)
        .where('ip', '=', ip)
        .executeTakeFirst();
      if (!row || new Date(row.window_started_at).getTime() <= now.getTime() - windowMs) return 0;
      return row.failures;
    },

    async countIpFailure(ip: string, now: Date, windowMs: number): Promise<number> {
      const fresh = sql<boolean>`ip_throttles.window_started_at <= ${new Date(now.getTime() - windowMs)}`;
      const row = await db
        .insertInto('ip_throttles')
        .values({ pool_id: poolId, ip, failures: 1, window_started_at: now })
        .onConflict((oc) =>
          oc.columns(['pool_id', 'ip']).doUpdateSet({
            failures: sql`CASE WHEN ${fresh} THEN 1 ELSE ip_throttles.failures + 1 END`,
            window_started_at: sql`CASE WHEN ${fresh} THEN ${now} ELSE ip_throttles.window_started_at END`,
          }),
        )
        .returning('failures')
        .executeTakeFirstOrThrow();
      return row.failures;
    },
  };
}
