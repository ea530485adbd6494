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

export function createLockoutQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
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
      const windowStart = new Date(now.getTime() - windowMs);
      const lockedUntil = new Date(now.getTime() + windowMs);
      const fresh = sql<boolean>`user_lockouts.window_started_at <= ${windowStart}`;
      return pool
        .insertInto('user_lockouts', { user_id: userId, failures: 1, window_started_at: now, locked_until: maxAttempts <= 1 ? lockedUntil : null })
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
      const result = await pool.deleteFrom('user_lockouts').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
