/**
 * Failed sign-in counters of one pool: per user (lockout) and per client IP (throttling).
 * A failure is counted with one atomic upsert: a failure after the window has ended
 * starts a new window at 1, so counters never need a sweeper to stay correct.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import { fixedStatement } from '../db/prepared.js';
import type { UserLockoutRow, UserRow } from '../db/tables.js';

/** What judging a sign-in attempt needs, in one round trip: the IP's counter, the user by email, the user's counter. */
const signInState = fixedStatement<Record<string, unknown>>(
  'tarn_sign_in_state',
  `select u.*,
     l.failures as lockout_failures, l.window_started_at as lockout_window_started_at, l.locked_until as lockout_locked_until,
     t.failures as ip_failures, t.window_started_at as ip_window_started_at
   from (values (1)) as one (x)
   left join users u on u.pool_id = $1 and lower(u.email) = $3
   left join user_lockouts l on l.pool_id = $1 and l.user_id = u.id
   left join ip_throttles t on t.pool_id = $1 and t.ip = $2`,
);

export interface SignInStateRows {
  user: UserRow | undefined;
  lockout: UserLockoutRow | undefined;
  ip: { failures: number; window_started_at: Date } | undefined;
}

export function createLockoutQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    async findSignInState(ip: string, email: string): Promise<SignInStateRows> {
      const row = (await signInState.run(db, [poolId, ip, email.toLowerCase()])).rows[0]!;
      const { lockout_failures, lockout_window_started_at, lockout_locked_until, ip_failures, ip_window_started_at, ...user } = row;
      return {
        user: user.id ? (user as unknown as UserRow) : undefined,
        lockout:
          lockout_failures === null
            ? undefined
            : ({ pool_id: poolId, user_id: user.id, failures: lockout_failures, window_started_at: lockout_window_started_at, locked_until: lockout_locked_until } as UserLockoutRow),
        ip: ip_failures === null ? undefined : { failures: ip_failures as number, window_started_at: ip_window_started_at as Date },
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

    findIpCounter(ip: string): Promise<{ failures: number; window_started_at: Date } | undefined> {
      return pool.selectFrom('ip_throttles').select(['failures', 'window_started_at']).where('ip', '=', ip).executeTakeFirst();
    },

    async countIpFailure(ip: string, now: Date, windowMs: number): Promise<number> {
      const fresh = sql<boolean>`ip_throttles.window_started_at <= ${new Date(now.getTime() - windowMs)}`;
      const row = await pool
        .insertInto('ip_throttles', { ip, failures: 1, window_started_at: now })
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
