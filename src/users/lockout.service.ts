/**
 * Brute-force defences of sign-in (docs/design.md#sign-in; Ory Kratos #3037):
 * - per user: `lockout.maxAttempts` failures within `lockout.windowSeconds` lock the user
 *   for `windowSeconds`; while locked even the right password fails, with the same answer
 *   as a wrong one (so a lock tells an attacker nothing about the account). An admin
 *   sees and clears the lock.
 * - per client IP and pool: IP_MAX_FAILURES failures within IP_WINDOW_MS throttle that IP
 *   (the answer says so: it concerns the network, not an account).
 * Unknown emails count against the IP only; the caller spends the same hashing time.
 */
import type { Db } from '../db/database.js';
import type { LockoutSettings, UserLockoutRow } from '../db/tables.js';
import { createLockoutQueries } from './lockout.queries.js';

export const IP_MAX_FAILURES = 30;
export const IP_WINDOW_MS = 15 * 60 * 1000;

export interface SignInGuardDeps {
  db: Db;
  clock: () => Date;
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

/** Failures of an IP's counter that still count at `now` (none once its window has ended). */
function ipFailuresAt(counter: { failures: number; window_started_at: Date } | undefined, now: Date): number {
  if (!counter || new Date(counter.window_started_at).getTime() <= now.getTime() - IP_WINDOW_MS) return 0;
  return counter.failures;
}

export function createSignInGuard({ db, clock }: SignInGuardDeps) {
  return {
    /**
     * Everything a sign-in attempt is judged by, read in one query: is the IP throttled,
     * the user with this email (if any), and that user's lockout.
     */
    async assess(poolId: string, ip: string, email: string) {
      const state = await createLockoutQueries(db, poolId).findSignInState(ip, email);
      const now = clock();
      return {
        ipThrottled: ipFailuresAt(state.ip, now) >= IP_MAX_FAILURES,
        user: state.user,
        lockout: toLockoutResponse(state.lockout, now),
      };
    },


    async isUserLocked(poolId: string, userId: string): Promise<boolean> {
      return toLockoutResponse(await createLockoutQueries(db, poolId).findLockout(userId), clock()).locked;
    },

    async isIpThrottled(poolId: string, ip: string): Promise<boolean> {
      return ipFailuresAt(await createLockoutQueries(db, poolId).findIpCounter(ip), clock()) >= IP_MAX_FAILURES;
    },

    /** One failed sign-in: counts against the IP, and against the user when there is one. */
    async recordFailure(poolId: string, settings: LockoutSettings, ip: string, userId: string | undefined): Promise<void> {
      const queries = createLockoutQueries(db, poolId);
      const now = clock();
      await queries.countIpFailure(ip, now, IP_WINDOW_MS);
      if (userId) await queries.countUserFailure(userId, now, settings.windowSeconds * 1000, settings.maxAttempts);
    },

    /** A successful sign-in starts the user's count afresh. */
    async recordSuccess(poolId: string, userId: string): Promise<void> {
      await createLockoutQueries(db, poolId).clearLockout(userId);
    },

    async describeLockout(poolId: string, userId: string) {
      return toLockoutResponse(await createLockoutQueries(db, poolId).findLockout(userId), clock());
    },

    async clearLockout(poolId: string, userId: string): Promise<void> {
      await createLockoutQueries(db, poolId).clearLockout(userId);
    },
  };
}

export type SignInGuard = ReturnType<typeof createSignInGuard>;
