/**
 * Second factors of a pool's users (docs/adr/0307): an authenticator app (TOTP, RFC 6238).
 * The shared secret is sealed at rest with the envelope, bound to the pool and user. A code
 * is accepted once: its time step is stored and a later code must belong to a later step.
 * Wrong codes count against the user like wrong passwords (lockout.service.ts): past the
 * pool's `lockout.maxAttempts` wrong codes since the last right one, the user is locked for
 * `lockout.windowSeconds`, and a right password does not reset that count.
 * Recovery codes: ten single-use codes, shown once, kept as keyed hashes; a wrong one counts
 * like a wrong TOTP code.
 */
import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import type { MfaPolicy, PoolRow } from '../db/tables.js';
import type { SignInGuard } from '../users/lockout.service.js';
import { hmac } from '../crypto/secrets.js';
import { createRecoveryCodeQueries } from './recovery-codes.queries.js';
import { createTotpQueries } from './totp.queries.js';
import { matchTotp, newTotpSecret, otpauthUri, toBase32 } from './totp.js';

export interface MfaServiceDeps {
  db: Db;
  envelope: Envelope;
  guard: SignInGuard;
  clock: () => Date;
  /** The key recovery codes are hashed under (deriveKey(masterKey, 'recovery-codes')). */
  recoveryKey: Buffer;
}

export const RECOVERY_CODE_COUNT = 10;

export interface Factor {
  /** `totp` or `recovery_codes`: a user has at most one of each. */
  id: string;
  type: 'totp' | 'recovery_codes';
  createdAt: Date;
  /** Unused recovery codes. */
  remaining?: number;
}

export interface TotpEnrolment {
  /** The manual key (base32), for typing into an app that cannot scan. */
  secret: string;
  uri: string;
  /** The URI as a QR code, an SVG document rendered here (no script, no request to a third party). */
  qrSvg: string;
}

export const mfaPolicy = (pool: PoolRow): MfaPolicy => pool.sign_in.mfa ?? 'off';

const sealContext = (poolId: string, userId: string) => `user_totp:${poolId}:${userId}`;

/** "ABCDE-FGHIJ": 50 random bits, read aloud or typed without ambiguity (base32 has no 0/1/8). */
function newRecoveryCode(): string {
  const text = toBase32(randomBytes(7)).slice(0, 10);
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

/** What a person may type for a code: any case, with or without the dash or spaces. */
const normalizeRecoveryCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

export function createMfaService({ db, envelope, guard, clock, recoveryKey }: MfaServiceDeps) {
  const recoveryHash = (poolId: string, userId: string, code: string) => hmac(recoveryKey, `${poolId}:${userId}:${normalizeRecoveryCode(code)}`);

  /** One more wrong second factor; past the pool's limit, the user is locked at once (a lockout row whose limit is one failure). */
  async function countFailure(pool: PoolRow, userId: string): Promise<void> {
    const failures = await createTotpQueries(db, pool.id).countFailure(userId);
    if (failures >= pool.lockout.maxAttempts) await guard.recordFailure(pool.id, { ...pool.lockout, maxAttempts: 1 }, userId);
  }

  return {
    /** Whether the user has a confirmed second factor. */
    async hasFactor(poolId: string, userId: string): Promise<boolean> {
      const row = await createTotpQueries(db, poolId).findTotp(userId);
      return Boolean(row?.confirmed_at);
    },

    /**
     * The enrolment in progress (the same secret on every showing, so a scanned code stays
     * right), or a new one; undefined when the user already has a confirmed app.
     */
    async startTotpEnrolment(pool: PoolRow, user: { id: string; email: string }): Promise<TotpEnrolment | undefined> {
      const queries = createTotpQueries(db, pool.id);
      const existing = await queries.findTotp(user.id);
      if (existing?.confirmed_at) return undefined;
      let secret = existing ? envelope.open(existing.secret_enc, sealContext(pool.id, user.id)) : undefined;
      if (!secret) {
        secret = newTotpSecret();
        if (!(await queries.upsertPendingTotp(user.id, envelope.seal(secret, sealContext(pool.id, user.id))))) return undefined;
      }
      const uri = otpauthUri(secret, pool.name, user.email);
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, uri, qrSvg };
    },

    /** The first code from the app confirms the enrolment. */
    async confirmTotp(pool: PoolRow, userId: string, code: string): Promise<boolean> {
      const queries = createTotpQueries(db, pool.id);
      const row = await queries.findTotp(userId);
      if (!row || row.confirmed_at) return false;
      const step = matchTotp(envelope.open(row.secret_enc, sealContext(pool.id, userId)), code.trim(), clock(), row.last_step);
      return step !== undefined && (await queries.acceptStep(userId, step, true));
    },

    /** A code at sign-in. False for a wrong, reused or locked-out attempt (one answer for all). */
    async verifyTotp(pool: PoolRow, userId: string, code: string): Promise<boolean> {
      const queries = createTotpQueries(db, pool.id);
      const row = await queries.findTotp(userId);
      if (!row?.confirmed_at) return false;
      if (await guard.isUserLocked(pool.id, userId)) return false;
      const step = matchTotp(envelope.open(row.secret_enc, sealContext(pool.id, userId)), code.trim(), clock(), row.last_step);
      if (step !== undefined && (await queries.acceptStep(userId, step, false))) return true;
      await countFailure(pool, userId);
      return false;
    },

    /** New recovery codes replace the old ones; the plain codes exist only in this answer. */
    async regenerateRecoveryCodes(poolId: string, userId: string): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await createRecoveryCodeQueries(db, poolId).replaceRecoveryCodes(
        userId,
        codes.map((code) => recoveryHash(poolId, userId, code)),
      );
      return codes;
    },

    /** A recovery code at sign-in, in place of the app's code: each works once. */
    async useRecoveryCode(pool: PoolRow, userId: string, code: string): Promise<boolean> {
      if (!(await createTotpQueries(db, pool.id).findTotp(userId))?.confirmed_at) return false;
      if (await guard.isUserLocked(pool.id, userId)) return false;
      const used = await createRecoveryCodeQueries(db, pool.id).useRecoveryCode(userId, recoveryHash(pool.id, userId, code), clock());
      if (used) await createTotpQueries(db, pool.id).resetFailures(userId);
      else await countFailure(pool, userId);
      return used;
    },

    async countUnusedRecoveryCodes(poolId: string, userId: string): Promise<number> {
      return createRecoveryCodeQueries(db, poolId).countUnusedRecoveryCodes(userId);
    },

    /** A user's second factors as an admin sees them (never a secret nor a code). */
    async listFactors(poolId: string, userId: string): Promise<Factor[]> {
      const totp = await createTotpQueries(db, poolId).findTotp(userId);
      if (!totp?.confirmed_at) return [];
      const remaining = await createRecoveryCodeQueries(db, poolId).countUnusedRecoveryCodes(userId);
      return [
        { id: 'totp', type: 'totp', createdAt: new Date(totp.confirmed_at) },
        ...(remaining > 0 ? [{ id: 'recovery_codes', type: 'recovery_codes' as const, createdAt: new Date(totp.confirmed_at), remaining }] : []),
      ];
    },

    /** An admin removes a factor (a lost phone): false when the user has no such factor. */
    async removeFactor(poolId: string, userId: string, factorId: string): Promise<boolean> {
      if (factorId === 'totp') {
        // The recovery codes stand in for the app: they go with it.
        await createRecoveryCodeQueries(db, poolId).deleteRecoveryCodes(userId);
        return createTotpQueries(db, poolId).deleteTotp(userId);
      }
      if (factorId === 'recovery_codes') return (await createRecoveryCodeQueries(db, poolId).deleteRecoveryCodes(userId)) > 0;
      return false;
    },

    /** Removes the app; the recovery codes go with it (they stand in for the app). */
    async removeTotp(poolId: string, userId: string): Promise<boolean> {
      await createRecoveryCodeQueries(db, poolId).deleteRecoveryCodes(userId);
      return createTotpQueries(db, poolId).deleteTotp(userId);
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
