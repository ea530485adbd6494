/**
 * Brute-force defence of sign-in per user (docs/design.md#sign-in; Ory Kratos #3037): `lockout.maxAttempts`
 * failures within `lockout.windowSeconds` lock the user for `windowSeconds`; while locked
 * even the right password fails, with the same answer as a wrong one (so a lock tells an
 * attacker nothing about the account). An admin sees and clears the lock.
 * Guessing across accounts from one network is the request frame's login failure limit
 * (RATE_LIMIT_LOGIN_FAILURES, ADR 0802), which counts every failed hosted sign-in answer.
 */
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { LockoutSettings, UserLockoutRow } from '../db/tables.js';
import { anyExpiredLock, createLockoutQueries, releaseExpiredLocks } from './lockout.queries.js';

export interface SignInGuardDeps {
  db: Db;
  clock: () => Date;
  /**
   * Writes `user.locked` (once per lock, at the failure that locks the user) in the transaction
   * of the counter update that locks, and `user.unlocked` in the one that releases a lock that
   * ran out (ADR 0809); done by the system (audit.service.ts systemChanges).
   */
  recordLock?: (poolId: string) => RecordChange;
  /** A lock or a release and its event committed (the webhook worker may look now). */
  onLockCommitted?: () => void;
}

export function toLockoutResponse(row: UserLockoutRow | undefined, now: Date) {
  if (!row) return { locked: false, failures: 0, lockedUntil: null, windowStartedAt: null };
  const lockedUntil = row.locked_until ? new Date(row.locked_until) : null;
  return {
    locked: lockedUntil !== null && lockedUntil.getTime() > now.getTime(),
    failures: row.failures,
    lockedUntil,
    windowStartedAt: new Date(row.window_started_at),
  };
}

export function createSignInGuard({ db, clock, recordLock, onLockCommitted }: SignInGuardDeps) {
  return {
    /** Everything a sign-in attempt is judged by, read in one query: the user with this email (if any) and that user's lockout. */
    async assess(poolId: string, email: string) {
      const state = await createLockoutQueries(db, poolId).findSignInState(email);
      return { user: state.user, lockout: toLockoutResponse(state.lockout, clock()) };
    },

    async isUserLocked(poolId: string, userId: string): Promise<boolean> {
      return toLockoutResponse(await createLockoutQueries(db, poolId).findLockout(userId), clock()).locked;
    },

    /**
     * One failed sign-in of a user. A failure that does not lock is one statement, as on every
     * wrong password; the one that locks is counted again, with `user.locked`, in one transaction.
     */
    async recordFailure(poolId: string, settings: LockoutSettings, userId: string): Promise<void> {
      const now = clock();
      const windowMs = settings.windowSeconds * 1000;
      const limit = Math.max(settings.maxAttempts, 1);
      if (limit > 1 && (await createLockoutQueries(db, poolId).countUserFailureUnlessLocking(userId, now, windowMs, settings.maxAttempts))) return;
      const row = await changeWithEvents(
        db,
        recordLock?.(poolId),
        (executor) => createLockoutQueries(executor, poolId).countUserFailure(userId, now, windowMs, settings.maxAttempts),
        // Later failures in the window extend the lock; only the one that reached the limit locks.
        (counted) =>
          counted.locked_until && counted.failures === limit
            ? [
                {
                  action: 'user.locked',
                  target: { type: 'user', id: userId },
                  details: { failures: counted.failures, lockedUntil: new Date(counted.locked_until).toISOString() },
                },
              ]
            : [],
      );
      if (row.locked_until && row.failures === limit) onLockCommitted?.();
    },

    /** A successful sign-in starts the user's count afresh. */
    async recordSuccess(poolId: string, userId: string): Promise<void> {
      await createLockoutQueries(db, poolId).clearCounterUnlessLocked(userId);
    },

    /**
     * Releases locks of any pool that ran out (by this clock), each with its `user.unlocked`
     * (actor `system`) in one transaction: run by every instance's delivery worker, and the
     * locks are claimed with FOR UPDATE SKIP LOCKED, so exactly one instance announces each.
     * Answers how many it released.
     */
    async releaseExpiredLocks(limit = 100): Promise<number> {
      const now = clock();
      // Most polls find none: one statement, and no transaction.
      if (!(await anyExpiredLock(db, now))) return 0;
      const released = await db.transaction().execute(async (trx) => {
        const locks = await releaseExpiredLocks(trx, now, limit);
        for (const lock of locks) {
          await recordLock?.(lock.pool_id)(trx, [
            {
              action: 'user.unlocked',
              target: { type: 'user', id: lock.user_id },
              details: { lockedUntil: new Date(lock.locked_until).toISOString(), expired: true },
            },
          ]);
        }
        return locks.length;
      });
      if (released > 0) onLockCommitted?.();
      return released;
    },

    async describeLockout(poolId: string, userId: string) {
      return toLockoutResponse(await createLockoutQueries(db, poolId).findLockout(userId), clock());
    },

    async clearLockout(poolId: string, userId: string, executor: Db = db): Promise<void> {
      await createLockoutQueries(executor, poolId).clearLockout(userId);
    },
  };
}

export type SignInGuard = ReturnType<typeof createSignInGuard>;
