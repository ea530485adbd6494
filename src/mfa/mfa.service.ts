/**
 * Second factors of a pool's users (docs/adr/0307): an authenticator app (TOTP, RFC 6238).
 * The shared secret is sealed at rest with the envelope, bound to the pool and user. A code
 * is accepted once: its time step is stored and a later code must belong to a later step.
 * Wrong codes count against the user like wrong passwords (lockout.service.ts): past the
 * pool's `lockout.maxAttempts` wrong codes since the last right one, the user is locked for
 * `lockout.windowSeconds`, and a right password does not reset that count.
 * Recovery codes: ten single-use codes, shown once, kept as keyed hashes; a wrong one counts
 * like a wrong TOTP code.
 * A passkey (after a password or an emailed code) and, where the pool allows it, a code mailed
 * to the verified address are second factors too (docs/adr/0309); every wrong second factor,
 * whichever, adds to the same per-user count (user_factor_failures).
 */
import { randomBytes } from 'node:crypto';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import type { MfaPolicy, PoolRow } from '../db/tables.js';
import type { SignInGuard } from '../users/lockout.service.js';
import { hmac } from '../crypto/secrets.js';
import { problems } from '../http/problem.js';
import type { Mailer } from '../mail/mailer.js';
import type { Locale } from '../i18n/catalogues.js';
import { mailLocale, signInCodeMail } from '../mail/templates.js';

/** Whom a code is mailed to; the `locale` claim of the profile names the mail's language when the page does not. */
type MailUser = { id: string; email: string; profile?: Record<string, unknown> };
import { createPasskeyQueries } from '../passkeys/passkeys.queries.js';
import { CODE_TTL_MS, type CodeService } from '../users/codes.service.js';
import type { MailLimits } from '../users/mail-limits.service.js';
import { createFactorFailureQueries } from './factor-failures.queries.js';
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
  /** Emailed second-factor codes (purpose `second_factor`, bound to the sign-in that asked). */
  codes: CodeService;
  mailer: Mailer;
  mailLimits: MailLimits;
}

/** The second factors a user can pass now: the ones they set up (app, passkey), and the pool's emailed code. */
export interface FactorChoice {
  totp: boolean;
  passkey: boolean;
  email: boolean;
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

/** Whether a code mailed to the verified address counts as a second factor in this pool (off unless the pool says so). */
export const emailIsSecondFactor = (pool: PoolRow): boolean => pool.sign_in.emailSecondFactor === true;

export function createMfaService({ db, envelope, guard, clock, recoveryKey, codes, mailer, mailLimits }: MfaServiceDeps) {
  const recoveryHash = (poolId: string, userId: string, code: string) => hmac(recoveryKey, `${poolId}:${userId}:${normalizeRecoveryCode(code)}`);

  /** One more wrong second factor; past the pool's limit, the user is locked at once (a lockout row whose limit is one failure). */
  async function countFailure(pool: PoolRow, userId: string): Promise<void> {
    const failures = await createFactorFailureQueries(db, pool.id).countFailure(userId);
    if (failures >= pool.lockout.maxAttempts) await guard.recordFailure(pool.id, { ...pool.lockout, maxAttempts: 1 }, userId);
  }

  const resetFailures = (poolId: string, userId: string) => createFactorFailureQueries(db, poolId).resetFailures(userId);

  /**
   * Mails a 6-digit code to the user's address, bound to this sign-in. `throttled` when the
   * network asked for too many mails; `sent` otherwise (also when the address asked again too
   * soon: the code sent a moment ago still works).
   */
  async function sendCode(
    purpose: 'second_factor' | 'connection_link',
    pool: PoolRow,
    user: MailUser,
    interactionUid: string,
    ip: string,
    locale?: Locale,
  ): Promise<'sent' | 'throttled'> {
    const allowance = await mailLimits.take(pool.id, user.email, ip);
    if (allowance === 'ip') return 'throttled';
    if (allowance === 'address') return 'sent';
    const issued = await codes.issueCode(pool.id, { purpose, email: user.email, userId: user.id, ttlMs: CODE_TTL_MS, boundTo: interactionUid });
    await mailer.send(
      signInCodeMail({ name: pool.name, tagColor: pool.tag_color }, user.email, issued.code, Math.round(CODE_TTL_MS / 60_000), mailLocale(locale, user, pool)),
    );
    return 'sent';
  }

  async function checkCode(
    purpose: 'second_factor' | 'connection_link',
    pool: PoolRow,
    user: { id: string; email: string },
    code: string,
    interactionUid: string,
  ): Promise<boolean> {
    if (await guard.isUserLocked(pool.id, user.id)) return false;
    const row = await codes.useCode(pool.id, purpose, user.email, code.trim(), interactionUid);
    if (row && row.user_id === user.id) {
      await resetFailures(pool.id, user.id);
      return true;
    }
    await countFailure(pool, user.id);
    return false;
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
      const { default: QRCode } = await import('qrcode');
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { secret, uri, qrSvg };
    },

    /** The first code from the app confirms the enrolment; `record` writes `user.totp_enrolled` with it (ADR 0809). */
    async confirmTotp(pool: PoolRow, userId: string, code: string, record?: RecordChange): Promise<boolean> {
      const row = await createTotpQueries(db, pool.id).findTotp(userId);
      if (!row || row.confirmed_at) return false;
      const step = matchTotp(envelope.open(row.secret_enc, sealContext(pool.id, userId)), code.trim(), clock(), row.last_step);
      if (step === undefined) return false;
      return changeWithEvents(
        db,
        record,
        (executor) => createTotpQueries(executor, pool.id).acceptStep(userId, step, true),
        (accepted) => (accepted ? [{ action: 'user.totp_enrolled', target: { type: 'user', id: userId } }] : []),
      );
    },

    /** A code at sign-in. False for a wrong, reused or locked-out attempt (one answer for all). */
    async verifyTotp(pool: PoolRow, userId: string, code: string): Promise<boolean> {
      const queries = createTotpQueries(db, pool.id);
      const row = await queries.findTotp(userId);
      if (!row?.confirmed_at) return false;
      if (await guard.isUserLocked(pool.id, userId)) return false;
      const step = matchTotp(envelope.open(row.secret_enc, sealContext(pool.id, userId)), code.trim(), clock(), row.last_step);
      if (step !== undefined && (await queries.acceptStep(userId, step, false))) {
        await resetFailures(pool.id, userId);
        return true;
      }
      await countFailure(pool, userId);
      return false;
    },

    /**
     * The factors the user can pass as a second factor now. `afterEmail`: the first factor was an
     * emailed code, so the email cannot be the second one too.
     */
    async factorChoice(pool: PoolRow, user: { id: string; email_verified: boolean }, options: { afterEmail?: boolean } = {}): Promise<FactorChoice> {
      const totp = Boolean((await createTotpQueries(db, pool.id).findTotp(user.id))?.confirmed_at);
      const passkey = pool.sign_in.passkey === true && (await createPasskeyQueries(db, pool.id).countUserPasskeys(user.id)) > 0;
      return { totp, passkey, email: emailIsSecondFactor(pool) && user.email_verified && !options.afterEmail };
    },

    /** Whether a wrong second factor, or the password's, locked the user: then no factor is even checked. */
    isLocked(poolId: string, userId: string): Promise<boolean> {
      return guard.isUserLocked(poolId, userId);
    },

    /** A wrong second factor checked elsewhere (a passkey's assertion): counts like a wrong code. */
    recordFailure: countFailure,

    /** A right second factor checked elsewhere: the count starts afresh. */
    recordSuccess: resetFailures,

    /**
     * Mails a 6-digit second-factor code to the user's verified address, bound to this sign-in.
     * `throttled` when the network asked for too many mails; `sent` otherwise (also when the
     * address asked again too soon: the code sent a moment ago still works).
     */
    async sendEmailCode(pool: PoolRow, user: MailUser, interactionUid: string, ip: string, locale?: Locale): Promise<'sent' | 'throttled'> {
      return sendCode('second_factor', pool, user, interactionUid, ip, locale);
    },

    /** The emailed code at sign-in: false for a wrong, expired, used or locked-out attempt (one answer for all). */
    async verifyEmailCode(pool: PoolRow, user: { id: string; email: string }, code: string, interactionUid: string): Promise<boolean> {
      if (!emailIsSecondFactor(pool)) return false;
      return checkCode('second_factor', pool, user, code, interactionUid);
    },

    /**
     * A code that proves the account before an upstream identity is linked to it (docs/adr/0900):
     * mailed to the account's own address, bound to this sign-in, with a purpose of its own. Offered
     * whatever the pool's second-factor settings: it proves the mailbox, as a password reset does.
     */
    async sendLinkCode(pool: PoolRow, user: MailUser, interactionUid: string, ip: string, locale?: Locale): Promise<'sent' | 'throttled'> {
      return sendCode('connection_link', pool, user, interactionUid, ip, locale);
    },

    /** The link's code: wrong ones count against the user like wrong second factors, and a locked user's right one fails. */
    async verifyLinkCode(pool: PoolRow, user: { id: string; email: string }, code: string, interactionUid: string): Promise<boolean> {
      return checkCode('connection_link', pool, user, code, interactionUid);
    },

    /** New recovery codes replace the old ones; the plain codes exist only in this answer. */
    /** `record` writes `user.recovery_codes_regenerated` with the new set (ADR 0809). */
    async regenerateRecoveryCodes(poolId: string, userId: string, record?: RecordChange): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      const hashes = codes.map((code) => recoveryHash(poolId, userId, code));
      if (!record) {
        await createRecoveryCodeQueries(db, poolId).replaceRecoveryCodes(userId, hashes);
        return codes;
      }
      await changeWithEvents(
        db,
        record,
        (executor) => createRecoveryCodeQueries(executor, poolId).replaceRecoveryCodes(userId, hashes),
        () => [{ action: 'user.recovery_codes_regenerated', target: { type: 'user', id: userId } }],
      );
      return codes;
    },

    /** A recovery code at sign-in, in place of the app's code: each works once. */
    async useRecoveryCode(pool: PoolRow, userId: string, code: string): Promise<boolean> {
      if (!(await createTotpQueries(db, pool.id).findTotp(userId))?.confirmed_at) return false;
      if (await guard.isUserLocked(pool.id, userId)) return false;
      const used = await createRecoveryCodeQueries(db, pool.id).useRecoveryCode(userId, recoveryHash(pool.id, userId, code), clock());
      if (used) await resetFailures(pool.id, userId);
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
    /**
     * The admin's removal; `record` writes its event in the removal's transaction (ADR 0809).
     * Nothing to remove: 404, and nothing written.
     */
    async removeFactor(poolId: string, userId: string, factorId: string, record?: RecordChange): Promise<void> {
      await changeWithEvents(db, record, async (executor) => {
        let removed = false;
        if (factorId === 'totp') {
          // The recovery codes stand in for the app: they go with it.
          await createRecoveryCodeQueries(executor, poolId).deleteRecoveryCodes(userId);
          removed = await createTotpQueries(executor, poolId).deleteTotp(userId);
        } else if (factorId === 'recovery_codes') removed = (await createRecoveryCodeQueries(executor, poolId).deleteRecoveryCodes(userId)) > 0;
        if (!removed) throw problems.notFound('Factor');
      });
    },

    /** Removes the app; the recovery codes go with it (they stand in for the app). */
    /** `record` writes `user.totp_removed` with the removal, when there was an app to remove (ADR 0809). */
    async removeTotp(poolId: string, userId: string, record?: RecordChange): Promise<boolean> {
      return changeWithEvents(
        db,
        record,
        async (executor) => {
          await createRecoveryCodeQueries(executor, poolId).deleteRecoveryCodes(userId);
          return createTotpQueries(executor, poolId).deleteTotp(userId);
        },
        (removed) => (removed ? [{ action: 'user.totp_removed', target: { type: 'user', id: userId } }] : []),
      );
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
