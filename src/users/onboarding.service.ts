/**
 * How people become active users on their own:
 * - activation of an invitation: by the link token (from the mail) or by email + code;
 *   the user sets a password (pool policy), becomes `active` and `emailVerified`
 *   (the mail reached them). A link works once; a resend invalidates the previous one.
 * - self-registration (pool.selfRegistration): email + password + the profile the schema
 *   requires; nothing is created until the emailed code proves the address. The pending
 *   account waits in the code row (password already hashed). An email that already has an
 *   account gets a notice mail instead of a code and the same page as anyone else.
 * - email one-time code sign-in (pool.signIn.emailCode): a code is sent only to an active,
 *   unlocked user, at most one per RESEND_INTERVAL_MS; the answer is the same whether the
 *   email exists or not. Signing in with the code verifies the address.
 * Mail for anonymous requests is sent in the background so response time does not tell
 * whether a message went out.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import type { Logger } from '../log.js';
import type { Mailer, MailMessage } from '../mail/mailer.js';
import { alreadyRegisteredMail, signInCodeMail, verificationMail } from '../mail/templates.js';
import { CODE_TTL_MS, type CodeService, type TokenState } from './codes.service.js';
import type { SignInGuard } from './lockout.service.js';
import type { PasswordHasher } from './password.js';
import { createCodeQueries } from './codes.queries.js';
import { createUserQueries } from './users.queries.js';
import type { UserService } from './users.service.js';

export interface OnboardingDeps {
  db: Db;
  users: UserService;
  codes: CodeService;
  guard: SignInGuard;
  hasher: PasswordHasher;
  mailer: Mailer;
  log: Logger;
  clock: () => Date;
  /** How long emailed codes (registration, sign-in) live; 10 minutes unless a test says otherwise. */
  codeTtlMs?: number;
}

export interface Registration {
  email: string;
  password: string;
  profile: Record<string, unknown>;
}

/** The shortest time between two sign-in codes mailed to one address. */
export const RESEND_INTERVAL_MS = 30 * 1000;

const brandOf = (pool: PoolRow) => ({ name: pool.name, tagColor: pool.tag_color });

export function createOnboardingService(deps: OnboardingDeps) {
  const { db, users, codes, guard, hasher, mailer, log } = deps;
  const codeTtlMs = deps.codeTtlMs ?? CODE_TTL_MS;
  const minutes = Math.max(1, Math.round(codeTtlMs / 60_000));

  function sendInBackground(poolId: string, message: MailMessage, what: string): void {
    mailer.send(message).catch((error: unknown) => log.error({ err: error, poolId, what }, 'mail failed'));
  }

  async function activate(pool: PoolRow, userId: string, password: string): Promise<UserRow | undefined> {
    const row = await createUserQueries(db, pool.id).updateUser(userId, {
      password_hash: await hasher.hash(password),
      status: 'active',
      email_verified: true,
    });
    await codes.revokeCodesOfUser(pool.id, userId, 'invitation');
    return row;
  }

  return {
    codeTtlMs,

    inspectInvitation(poolId: string, token: string): Promise<TokenState> {
      return codes.findByToken(poolId, token);
    },

    /** Sets the password of an invited user from the link. undefined when the link is no longer usable. */
    async activateWithToken(pool: PoolRow, token: string, password: string): Promise<UserRow | undefined> {
      const found = await codes.findByToken(pool.id, token);
      if (found.state !== 'live' || !found.row.user_id) return undefined;
      const user = await createUserQueries(db, pool.id).findUser(found.row.user_id);
      if (!user || user.status !== 'new') return undefined;
      users.checkPassword(pool, password, user.email);
      if (!(await codes.consume(pool.id, found.row.id))) return undefined;
      return activate(pool, user.id, password);
    },

    /** The same with the typed code instead of the link. */
    async activateWithCode(pool: PoolRow, email: string, code: string, password: string): Promise<UserRow | undefined> {
      users.checkPassword(pool, password, email);
      const row = await codes.useCode(pool.id, 'invitation', email, code);
      if (!row?.user_id) return undefined;
      const user = await createUserQueries(db, pool.id).findUser(row.user_id);
      if (!user || user.status !== 'new') return undefined;
      return activate(pool, user.id, password);
    },

    /** Checks the form (policy, schema) and mails a code; throws a validation problem on bad input. */
    async startRegistration(pool: PoolRow, input: Registration): Promise<void> {
      users.checkPassword(pool, input.password, input.email);
      users.checkProfile(pool, input.profile);
      const existing = await createUserQueries(db, pool.id).findUserByEmail(input.email);
      if (existing) {
        // Hash anyway: the same work as a new registration.
        await hasher.hash(input.password);
        sendInBackground(pool.id, alreadyRegisteredMail(brandOf(pool), existing.email), 'already-registered');
        return;
      }
      const passwordHash = await hasher.hash(input.password);
      const issued = await codes.issueCode(pool.id, { purpose: 'registration', email: input.email, payload: { passwordHash, profile: input.profile }, ttlMs: codeTtlMs });
      sendInBackground(pool.id, verificationMail(brandOf(pool), input.email, issued.code, minutes), 'verification');
    },

    /** The emailed code creates the account, active and verified. undefined for any wrong, used or expired code. */
    async completeRegistration(pool: PoolRow, email: string, code: string): Promise<UserRow | undefined> {
      const row = await codes.useCode(pool.id, 'registration', email, code);
      if (!row) return undefined;
      const pending = row.payload as { passwordHash?: string; profile?: Record<string, unknown> };
      try {
        return await createUserQueries(db, pool.id).insertUser({
          id: randomUUID(),
          email: row.email,
          email_verified: true,
          phone: null,
          status: 'active',
          profile: JSON.stringify(pending.profile ?? {}),
          metadata: JSON.stringify({}),
          password_hash: pending.passwordHash ?? null,
        });
      } catch (error) {
        // Someone else took the address between the form and the code.
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },

    /** "Email me a code": sends one to an active, unlocked user; silent otherwise. */
    async sendSignInCode(pool: PoolRow, email: string, ip: string): Promise<'sent' | 'throttled'> {
      if (await guard.isIpThrottled(pool.id, ip)) return 'throttled';
      const user = await createUserQueries(db, pool.id).findUserByEmail(email);
      if (!user || user.status !== 'active' || (await guard.isUserLocked(pool.id, user.id))) return 'sent';
      // One mail per address per RESEND_INTERVAL_MS: the page cannot be used to flood a mailbox.
      const latest = await createCodeQueries(db, pool.id).findLatestCode('sign_in', user.email);
      if (latest && deps.clock().getTime() - new Date(latest.created_at).getTime() < RESEND_INTERVAL_MS) return 'sent';
      const issued = await codes.issueCode(pool.id, { purpose: 'sign_in', email: user.email, userId: user.id, ttlMs: codeTtlMs });
      sendInBackground(pool.id, signInCodeMail(brandOf(pool), user.email, issued.code, minutes), 'sign-in-code');
      return 'sent';
    },

    /** The user the code signs in, or a refusal (same for every kind of wrong). */
    async verifySignInCode(pool: PoolRow, email: string, code: string, ip: string): Promise<{ ok: true; user: UserRow } | { ok: false; reason: 'invalid' | 'throttled' }> {
      if (await guard.isIpThrottled(pool.id, ip)) return { ok: false, reason: 'throttled' };
      const user = await createUserQueries(db, pool.id).findUserByEmail(email);
      const locked = user ? await guard.isUserLocked(pool.id, user.id) : false;
      const row = !locked && user ? await codes.useCode(pool.id, 'sign_in', email, code) : undefined;
      if (!user || !row || row.user_id !== user.id || user.status !== 'active') {
        await guard.recordFailure(pool.id, pool.lockout, ip, user?.id);
        return { ok: false, reason: 'invalid' };
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
