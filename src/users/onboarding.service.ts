/**
 * How people become active users on their own:
 * - activation of an invitation: by the link token (from the mail) or by email + code;
 *   the user sets a password (pool policy), becomes `active` and `emailVerified`
 *   (the mail reached them). A link works once; a resend invalidates the previous one.
 * - self-registration (pool.selfRegistration): email + password + the profile the schema
 *   requires; nothing is created until the emailed code proves the address. The pending
 *   account (password already hashed, profile) waits in a code row bound to the interaction
 *   that submitted it: the code works only in that browser, so a second registration of the
 *   same address (by anyone) can neither replace the first nor make its own password the
 *   account's without the code (ADR 0304). An email that already has an account gets a
 *   notice mail instead of a code and the same page as anyone else.
 * - email one-time code sign-in (pool.signIn.emailCode): a code is sent only to an active,
 *   unlocked user; the answer is the same whether the email exists or not. Signing in with
 *   the code verifies the address.
 * Every mail an anonymous visitor can trigger passes the mail limits first (resend interval,
 * per address, per IP: mail-limits.service.ts), before any account is looked up. Everything
 * after that (the account lookup, the code, the mail) runs after the answer is sent, the same
 * for every address, so neither the answer nor its timing tells whether an account exists.
 */
import { randomUUID } from 'node:crypto';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import { alreadyRegisteredMail, mailBrandOf, mailLocale, signInCodeMail, verificationMail } from '../mail/templates.js';
import type { Locale } from '../i18n/catalogues.js';
import { CODE_TTL_MS, type CodeService, type TokenState } from './codes.service.js';
import { normalizeEmail } from './email.js';
import type { SignInGuard } from './lockout.service.js';
import type { MailLimits } from './mail-limits.service.js';
import type { PasswordHasher } from './password.js';
import { createUserQueries } from './users.queries.js';
import type { UserService } from './users.service.js';

export interface OnboardingDeps {
  db: Db;
  users: UserService;
  codes: CodeService;
  guard: SignInGuard;
  hasher: PasswordHasher;
  mailer: Mailer;
  mailLimits: MailLimits;
  log: Logger;
  clock: () => Date;
  /** How long emailed codes (registration, sign-in) live; 10 minutes unless a test says otherwise. */
  codeTtlMs?: number;
  /** PUBLIC_URL: mails link to the pool's uploaded logo under it. */
  publicUrl?: string;
}

export interface Registration {
  email: string;
  password: string;
  profile: Record<string, unknown>;
}

/** Who asked: the interaction (browser) and the client IP, and how to run work once they have their answer. */
export interface Requester {
  interactionId: string;
  ip: string;
  /** Runs `work` after the answer has been sent (the route hooks the response's end); by default on the next turn. */
  afterAnswer?: (work: () => void) => void;
  /** The language of the page that asked for the mail (src/i18n), which the mail is written in. */
  locale?: Locale;
}

/** `sent` whether or not a mail went out; `throttled` when the requester's network asked for too many mails. */
export type MailOutcome = 'sent' | 'throttled';

export function createOnboardingService(deps: OnboardingDeps) {
  const { db, users, codes, guard, hasher, mailer, mailLimits, log } = deps;
  const codeTtlMs = deps.codeTtlMs ?? CODE_TTL_MS;
  const minutes = Math.max(1, Math.round(codeTtlMs / 60_000));

  /**
   * Work whose duration or outcome depends on the account: it starts once the answer is out,
   * so it neither delays the answer nor competes with it for the event loop or a connection.
   */
  function inBackground(requester: Pick<Requester, 'afterAnswer'>, poolId: string, what: string, work: () => Promise<void>): void {
    const schedule = requester.afterAnswer ?? ((run: () => void) => setImmediate(run));
    schedule(() => {
      work().catch((error: unknown) => log.error({ err: error, poolId, what }, 'mail failed'));
    });
  }

  /** The password, the end of the invitation and `user.activated` in one transaction (ADR 0809). */
  async function activate(pool: PoolRow, userId: string, password: string, via: 'link' | 'code', record?: RecordChange): Promise<UserRow | undefined> {
    const passwordHash = await hasher.hash(password);
    return changeWithEvents(
      db,
      record,
      async (executor) => {
        const row = await createUserQueries(executor, pool.id).updateUser(userId, { password_hash: passwordHash, status: 'active', email_verified: true });
        await codes.revokeCodesOfUser(pool.id, userId, 'invitation', executor);
        return row;
      },
      (row) => (row ? [{ action: 'user.activated', target: { type: 'user', id: row.id }, details: { via } }] : []),
    );
  }

  return {
    codeTtlMs,

    inspectInvitation(poolId: string, token: string): Promise<TokenState> {
      return codes.findByToken(poolId, token);
    },

    /** Sets the password of an invited user from the link. undefined when the link is no longer usable. */
    async activateWithToken(pool: PoolRow, token: string, password: string, record?: RecordChange): Promise<UserRow | undefined> {
      const found = await codes.findByToken(pool.id, token);
      if (found.state !== 'live' || !found.row.user_id) return undefined;
      const user = await createUserQueries(db, pool.id).findUser(found.row.user_id);
      if (!user || user.status !== 'new') return undefined;
      users.checkPassword(pool, password, user.email);
      if (!(await codes.consume(pool.id, found.row.id))) return undefined;
      return activate(pool, user.id, password, 'link', record);
    },

    /** The same with the typed code instead of the link. */
    async activateWithCode(pool: PoolRow, rawEmail: string, code: string, password: string, record?: RecordChange): Promise<UserRow | undefined> {
      const email = normalizeEmail(rawEmail);
      users.checkPassword(pool, password, email);
      const row = await codes.useCode(pool.id, 'invitation', email, code);
      if (!row?.user_id) return undefined;
      const user = await createUserQueries(db, pool.id).findUser(row.user_id);
      if (!user || user.status !== 'new') return undefined;
      return activate(pool, user.id, password, 'code', record);
    },

    /**
     * Checks the form (policy, schema), hashes the password, and, within the mail limits,
     * mails a code bound to the requester's interaction (or the owner's notice).
     * Throws a validation problem on bad input.
     */
    async startRegistration(pool: PoolRow, input: Registration, requester: Requester): Promise<MailOutcome> {
      const email = normalizeEmail(input.email);
      users.checkPassword(pool, input.password, email);
      users.checkProfile(pool, input.profile);
      // Hashed for every address alike, so the time does not depend on whether it has an account.
      const passwordHash = await hasher.hash(input.password);
      const allowance = await mailLimits.take(pool.id, email, requester.ip);
      if (allowance === 'ip') return 'throttled';
      if (allowance === 'address') return 'sent';
      inBackground(requester, pool.id, 'registration', async () => {
        const existing = await createUserQueries(db, pool.id).findUserByEmail(email);
        if (existing) {
          const locale = mailLocale(requester.locale, existing, pool);
          await mailer.send(alreadyRegisteredMail(mailBrandOf(pool, deps.publicUrl ?? '', locale), existing.email, locale));
          return;
        }
        const payload = { passwordHash, profile: input.profile };
        const issued = await codes.issueCode(pool.id, { purpose: 'registration', email, payload, ttlMs: codeTtlMs, boundTo: requester.interactionId });
        const locale = mailLocale(requester.locale, undefined, pool);
        await mailer.send(verificationMail(mailBrandOf(pool, deps.publicUrl ?? '', locale), email, issued.code, minutes, locale));
      });
      return 'sent';
    },

    /**
     * The emailed code, typed in the interaction that registered, creates the account,
     * active and verified. undefined for any wrong, used or expired code, and for a code
     * that another interaction asked for.
     */
    async completeRegistration(
      pool: PoolRow,
      email: string,
      code: string,
      requester: Pick<Requester, 'interactionId'>,
      record?: RecordChange,
    ): Promise<UserRow | undefined> {
      const row = await codes.useCode(pool.id, 'registration', normalizeEmail(email), code, requester.interactionId);
      if (!row) return undefined;
      const pending = row.payload as { passwordHash?: string; profile?: Record<string, unknown> };
      try {
        // The account and `user.registered` in one transaction (ADR 0809).
        return await changeWithEvents(
          db,
          record,
          (executor) =>
            createUserQueries(executor, pool.id).insertUser({
              id: randomUUID(),
              email: row.email,
              email_verified: true,
              phone: null,
              status: 'active',
              profile: JSON.stringify(pending.profile ?? {}),
              metadata: JSON.stringify({}),
              password_hash: pending.passwordHash ?? null,
            }),
          (user) => [{ action: 'user.registered', target: { type: 'user', id: user.id }, details: { email: user.email } }],
        );
      } catch (error) {
        // Someone else took the address between the form and the code.
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },

    /** "Email me a code": within the mail limits, sends one to an active, unlocked user; silent otherwise. */
    async sendSignInCode(pool: PoolRow, rawEmail: string, requester: Omit<Requester, 'interactionId'>): Promise<MailOutcome> {
      const email = normalizeEmail(rawEmail);
      const allowance = await mailLimits.take(pool.id, email, requester.ip);
      if (allowance === 'ip') return 'throttled';
      if (allowance === 'address') return 'sent';
      inBackground(requester, pool.id, 'sign-in-code', async () => {
        const user = await createUserQueries(db, pool.id).findUserByEmail(email);
        if (!user || user.status !== 'active' || (await guard.isUserLocked(pool.id, user.id))) return;
        const issued = await codes.issueCode(pool.id, { purpose: 'sign_in', email: user.email, userId: user.id, ttlMs: codeTtlMs });
        const locale = mailLocale(requester.locale, user, pool);
        await mailer.send(signInCodeMail(mailBrandOf(pool, deps.publicUrl ?? '', locale), user.email, issued.code, minutes, locale));
      });
      return 'sent';
    },

    /** The user the code signs in, or a refusal (same for every kind of wrong). */
    async verifySignInCode(pool: PoolRow, rawEmail: string, code: string): Promise<{ ok: true; user: UserRow } | { ok: false }> {
      const email = normalizeEmail(rawEmail);
      const user = await createUserQueries(db, pool.id).findUserByEmail(email);
      const locked = user ? await guard.isUserLocked(pool.id, user.id) : false;
      const row = !locked && user ? await codes.useCode(pool.id, 'sign_in', email, code) : undefined;
      if (!user || !row || row.user_id !== user.id || user.status !== 'active') {
        if (user) await guard.recordFailure(pool.id, pool.lockout, user.id);
        return { ok: false };
      }
      await guard.recordSuccess(pool.id, user.id);
      const users = createUserQueries(db, pool.id);
      await users.touchLastLogin(user.id);
      // The code reached them: the address is theirs.
      if (!user.email_verified) return { ok: true, user: (await users.updateUser(user.id, { email_verified: true })) ?? user };
      return { ok: true, user };
    },
  };
}

export type OnboardingService = ReturnType<typeof createOnboardingService>;
