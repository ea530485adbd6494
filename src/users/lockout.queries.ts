/**
 * Failed sign-in counters of the users of one pool (lockout).
 * A failure is counted with one atomic upsert: a failure after the window has ended
 * starts a new window at 1, so counters never need a sweeper to stay correct.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import { fixedStatement } from '../db/prepared.js';
import type { UserLockoutRow, UserRow } from '../db/tables.js';
import { emailKey } from './email.js';

/** What judging a sign-in attempt needs, in one round trip: the user by email and the user's counter. */
const signInState = fixedStatement<Record<string, unknown>>(
  'tarn_sign_in_user_state',
  `select u.*,
     l.failures as lockout_failures, l.window_started_at as lockout_window_started_at, l.locked_until as lockout_locked_until
   from (values (1)) as one (x)
   left join users u on u.pool_id = $1 and lower(u.email) = $2
   left join user_lockouts l on l.pool_id = $1 and l.user_id = u.id`,
);

export interface SignInStateRows {
  user: UserRow | undefined;
  lockout: UserLockoutRow | undefined;
}

export interface ReleasedLock {
  pool_id: string;
  user_id: string;
  locked_until: Date;
}

/** Whether a lock of any pool ran out by `now` and is still to be released (one look at the partial index). */
export async function anyExpiredLock(db: Db, now: Date): Promise<boolean> {
  const result = await sql<{ found: boolean }>`
    SELECT EXISTS (SELECT 1 FROM user_lockouts WHERE locked_until IS NOT NULL AND locked_until <= ${now}) AS found`.execute(db);
  return result.rows[0]?.found === true;
}

/**
 * Ends up to `limit` locks of any pool that ran out by `now` (the counter stays: its window is
 * over, so the next failure counts from 1). Locks another instance is releasing right now are
 * skipped (FOR UPDATE SKIP LOCKED), so each is released, and announced, once. Answers the locks
 * released with the time each ran out. About no pool in particular: each row is named by its key.
 */
export async function releaseExpiredLocks(db: Db, now: Date, limit: number): Promise<ReleasedLock[]> {
  const result = await sql<ReleasedLock>`
    UPDATE user_lockouts l SET locked_until = NULL
      FROM (
        SELECT pool_id, user_id, locked_until FROM user_lockouts
         WHERE locked_until IS NOT NULL AND locked_until <= ${now}
         ORDER BY locked_until
         LIMIT ${limit}
         FOR UPDATE SKIP LOCKED
      ) expired
     WHERE l.pool_id = expired.pool_id AND l.user_id = expired.user_id
    RETURNING l.pool_id, l.user_id, expired.locked_until`.execute(db);
  return result.rows;
}

export function createLockoutQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);

  function upsertFailure(userId: string, now: Date, windowMs: number, maxAttempts: number, unlessLocking: boolean): Promise<UserLockoutRow | undefined> {
    const windowStart = new Date(now.getTime() - windowMs);
    const lockedUntil = new Date(now.getTime() + windowMs);
    const fresh = sql<boolean>`user_lockouts.window_started_at <= ${windowStart}`;
    const count = sql<number>`(CASE WHEN ${fresh} THEN 1 ELSE user_lockouts.failures + 1 END)`;
    return pool
      .insertInto('user_lockouts', { user_id: userId, failures: 1, window_started_at: now, locked_until: maxAttempts <= 1 ? lockedUntil : null })
      .onConflict((oc) => {
        const update = oc.columns(['pool_id', 'user_id']).doUpdateSet({
          failures: count,
          window_started_at: sql`CASE WHEN ${fresh} THEN ${now} ELSE user_lockouts.window_started_at END`,
          locked_until: sql`CASE WHEN ${count} >= ${maxAttempts} THEN ${lockedUntil}::timestamptz ELSE user_lockouts.locked_until END`,
        });
        return unlessLocking ? update.where(sql<boolean>`${count} <> ${maxAttempts}`) : update;
      })
      .returningAll()
      .executeTakeFirst();
  }
  return {
    async findSignInState(email: string): Promise<SignInStateRows> {
      const row = (await signInState.run(db, [poolId, emailKey(email)])).rows[0]!;
      const { lockout_failures, lockout_window_started_at, lockout_locked_until, ...user } = row;
      return {
        user: user.id ? (user as unknown as UserRow) : undefined,
        lockout:
          lockout_failures === null
            ? undefined
            : ({
                pool_id: poolId,
                user_id: user.id,
                failures: lockout_failures,
                window_started_at: lockout_window_started_at,
                locked_until: lockout_locked_until,
              } as UserLockoutRow),
      };
    },

    findLockout(userId: string): Promise<UserLockoutRow | undefined> {
      return pool.selectFrom('user_lockouts').selectAll().where('user_id', '=', userId).executeTakeFirst();
    },

    /**
     * Counts a failure of the user at `now` in a window of `windowMs`; locks the user for
     * `windowMs` once `maxAttempts` failures fall in one window. Returns the counter.
     */
    async countUserFailure(userId: string, now: Date, windowMs: number, maxAttempts: number): Promise<UserLockoutRow> {
      return (await upsertFailure(userId, now, windowMs, maxAttempts, false))!;
    },

    /**
     * The same count, unless this failure is the one that locks the user (the count reaches
     * `maxAttempts`): then nothing changes and undefined comes back, so that the lock can be
     * counted again in a transaction with its event (lockout.service.ts).
     */
    countUserFailureUnlessLocking(userId: string, now: Date, windowMs: number, maxAttempts: number): Promise<UserLockoutRow | undefined> {
      return upsertFailure(userId, now, windowMs, maxAttempts, true);
    },

    /**
     * A successful sign-in's fresh start: the counter goes, unless it holds a lock that ran out
     * and was not yet released (releaseExpiredLocks announces it, then the next success clears it).
     */
    async clearCounterUnlessLocked(userId: string): Promise<void> {
      await pool.deleteFrom('user_lockouts').where('user_id', '=', userId).where('locked_until', 'is', null).execute();
    },

    async clearLockout(userId: string): Promise<boolean> {
      const result = await pool.deleteFrom('user_lockouts').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
