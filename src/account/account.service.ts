/**
 * What a signed-in user does to their own account on the hosted account page (docs/adr/0306).
 * The page is a relying party of its pool; this service takes the user it signed in and the
 * session id (`sid`) of the provider session behind it, and applies the pool's rules:
 * - profile: merged over the stored one and checked against the pool's profile schema, the
 *   same check as the admin API and /me;
 * - password: the current one is asked (a wrong one counts toward the user's lockout like a
 *   wrong sign-in); the new one passes the pool's policy and differs from the current one;
 *   then every other session, and every grant and token, ends, and a notice is mailed;
 * - email: a code mailed to the new address (within the anonymous mail limits) must come back
 *   before the change is made; then the old address gets a notice;
 * - sessions: the user's own, this one marked; one or all others can be ended;
 * - deletion, where the pool allows it (`account.allowDeletion`).
 */
import { createHmac } from 'node:crypto';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import { fieldError, problems } from '../http/problem.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import type { Locale } from '../i18n/catalogues.js';
import { accountDeletedMail, emailChangeCodeMail, emailChangedMail, mailLocale, passwordChangedMail } from '../mail/templates.js';
import { createAccountArtifactQueries } from '../users/account-artifacts.queries.js';
import { CODE_TTL_MS, type CodeService } from '../users/codes.service.js';
import { emailKey } from '../users/email.js';
import type { SignInGuard } from '../users/lockout.service.js';
import type { MailLimits } from '../users/mail-limits.service.js';
import type { PasswordHasher } from '../users/password.js';
import { createUserQueries } from '../users/users.queries.js';
import { emailSchema } from '../users/users.schemas.js';
import type { UserService } from '../users/users.service.js';

export interface AccountServiceDeps {
  db: Db;
  users: UserService;
  hasher: PasswordHasher;
  codes: CodeService;
  guard: SignInGuard;
  mailer: Mailer;
  mailLimits: MailLimits;
  log: Logger;
  /** The key the provider's artifact ids and uids are stored under (ADR 0709). */
  artifactKey: Buffer;
}

export interface AccountSession {
  id: string;
  current: boolean;
  createdAt: Date | null;
  expiresAt: Date | null;
  clients: string[];
}

export const EMAIL_CHANGE_TTL_MS = CODE_TTL_MS;
const brandOf = (pool: PoolRow) => ({ name: pool.name, tagColor: pool.tag_color });

export const allowsDeletion = (pool: PoolRow): boolean => pool.account?.allowDeletion === true;

export function createAccountService(deps: AccountServiceDeps) {
  const { db, users, hasher, codes, guard, mailer, mailLimits, log } = deps;
  /** The stored form of a session uid (artifact-at-rest.ts). */
  const sessionKey = (sid: string) => createHmac('sha256', deps.artifactKey).update(sid).digest('base64url');
  /** An email-change code works only for the user who asked for it. */
  const emailChangeBinding = (userId: string) => `account:${userId}`;

  async function notify(pool: PoolRow, userId: string, what: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      // The change is made either way; a failed notice must not make the user repeat it.
      log.error({ err: error, poolId: pool.id, userId, what }, 'account notice failed');
    }
  }

  return {
    /** The profile from the form, checked whole against the pool's schema (400 naming each field). */
    async updateProfile(pool: PoolRow, user: UserRow, profile: Record<string, unknown>, record?: RecordChange): Promise<string[]> {
      const change: Record<string, unknown> = { ...profile };
      for (const name of Object.keys(user.profile)) if (!(name in profile)) change[name] = null;
      const changed = Object.keys(change).filter((name) => JSON.stringify(user.profile[name] ?? null) !== JSON.stringify(change[name] ?? null));
      await users.updateMe(pool, user.id, { profile: change }, record, changed.sort());
      return changed;
    },

    /**
     * False for a wrong current password (counted toward the lockout; a locked user's right one
     * fails too). Throws a validation problem for a new password the pool refuses. `record`
     * writes `user.password_changed` with the change (ADR 0809).
     */
    async changePassword(pool: PoolRow, user: UserRow, current: string, next: string, sid: string, locale?: Locale, record?: RecordChange): Promise<boolean> {
      const locked = await guard.isUserLocked(pool.id, user.id);
      const matches = user.password_hash ? await hasher.verify(user.password_hash, current) : await hasher.verifyNothing(current);
      if (locked || !matches) {
        await guard.recordFailure(pool.id, pool.lockout, user.id);
        return false;
      }
      users.checkPassword(pool, next, user.email);
      if (next === current)
        throw problems.validation([fieldError('password', 'Choose a password different from your current one.')], 'The new password is the current one.');
      const passwordHash = await hasher.hash(next);
      await changeWithEvents(
        db,
        record,
        async (executor) => {
          await createUserQueries(executor, pool.id).updateUser(user.id, { password_hash: passwordHash, password_change: null });
          await guard.clearLockout(pool.id, user.id, executor);
          // Whoever knew the old password is out everywhere else; this browser stays signed in.
          await createAccountArtifactQueries(executor, pool.id).deleteArtifactsOfAccountExcept(user.id, sessionKey(sid));
        },
        () => [{ action: 'user.password_changed', target: { type: 'user', id: user.id } }],
      );
      await notify(pool, user.id, 'password-changed', () => mailer.send(passwordChangedMail(brandOf(pool), user.email, mailLocale(locale, user, pool))));
      return true;
    },

    /** Mails a code to the new address. 'throttled' past the network's mail limit. Throws a validation problem for an unusable address. */
    async startEmailChange(
      pool: PoolRow,
      user: UserRow,
      rawEmail: string,
      ip: string,
      locale?: Locale,
    ): Promise<{ outcome: 'sent' | 'throttled'; email: string }> {
      const parsed = emailSchema.safeParse(rawEmail);
      if (!parsed.success) throw problems.validation([fieldError('email', 'Must be an email address.')]);
      const email = parsed.data;
      if (emailKey(email) === emailKey(user.email)) throw problems.validation([fieldError('email', 'This is already your email address.')]);
      const allowance = await mailLimits.take(pool.id, email, ip);
      if (allowance === 'ip') return { outcome: 'throttled', email };
      if (allowance === 'address') return { outcome: 'sent', email };
      const issued = await codes.issueCode(pool.id, {
        purpose: 'email_change',
        email,
        userId: user.id,
        ttlMs: EMAIL_CHANGE_TTL_MS,
        boundTo: emailChangeBinding(user.id),
      });
      await mailer.send(emailChangeCodeMail(brandOf(pool), email, issued.code, Math.round(EMAIL_CHANGE_TTL_MS / 60_000), mailLocale(locale, user, pool)));
      return { outcome: 'sent', email };
    },

    /** The code from the new address: the email changes (verified), the old address is told. undefined for a wrong code. */
    async confirmEmailChange(
      pool: PoolRow,
      user: UserRow,
      rawEmail: string,
      code: string,
      locale?: Locale,
      record?: RecordChange,
    ): Promise<UserRow | undefined> {
      const parsed = emailSchema.safeParse(rawEmail);
      if (!parsed.success) return undefined;
      const row = await codes.useCode(pool.id, 'email_change', parsed.data, code.trim(), emailChangeBinding(user.id));
      if (!row || row.user_id !== user.id) return undefined;
      let updated: UserRow;
      try {
        updated = await changeWithEvents(
          db,
          record,
          async (executor) => {
            const changed = await createUserQueries(executor, pool.id).updateUser(user.id, { email: row.email, email_verified: true });
            if (!changed) throw problems.notFound('User');
            return changed;
          },
          () => [{ action: 'user.email_changed', target: { type: 'user', id: user.id } }],
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw problems.validation([fieldError('email', 'Another account already uses this address.')]);
        throw error;
      }
      await notify(pool, user.id, 'email-changed', () => mailer.send(emailChangedMail(brandOf(pool), user.email, row.email, mailLocale(locale, user, pool))));
      return updated;
    },

    async listSessions(poolId: string, userId: string, sid: string): Promise<AccountSession[]> {
      const current = sessionKey(sid);
      const rows = await createAccountArtifactQueries(db, poolId).listSessionsOfAccount(userId);
      return rows
        .map((row) => {
          const payload = row.payload as { loginTs?: unknown; authorizations?: unknown };
          const clients = payload.authorizations && typeof payload.authorizations === 'object' ? Object.keys(payload.authorizations) : [];
          return {
            id: row.id,
            current: row.uid === current,
            createdAt: typeof payload.loginTs === 'number' ? new Date(payload.loginTs * 1000) : null,
            expiresAt: row.expires_at ? new Date(row.expires_at) : null,
            clients,
          };
        })
        .sort((a, b) => Number(b.current) - Number(a.current));
    },

    /** Whether the provider session behind the account page still exists (not signed out, not ended elsewhere). */
    async sessionAlive(poolId: string, userId: string, sid: string): Promise<boolean> {
      const current = sessionKey(sid);
      const rows = await createAccountArtifactQueries(db, poolId).listSessionsOfAccount(userId);
      return rows.some((row) => row.uid === current);
    },

    /** Ends one of the user's sessions; false when it is not one of theirs. `record` writes `user.session_ended` with it (ADR 0809). */
    signOutSession(poolId: string, userId: string, id: string, record?: RecordChange): Promise<boolean> {
      return changeWithEvents(
        db,
        record,
        (executor) => createAccountArtifactQueries(executor, poolId).deleteSessionOfAccount(userId, id),
        (ended) => (ended ? [{ action: 'user.session_ended', target: { type: 'user', id: userId }, details: { sessionId: id } }] : []),
      );
    },

    /** Ends every session of the user but this one. `record` writes `user.sessions_ended` with it (ADR 0809). */
    async signOutOthers(poolId: string, userId: string, sid: string, record?: RecordChange): Promise<number> {
      return changeWithEvents(
        db,
        record,
        (executor) => createAccountArtifactQueries(executor, poolId).deleteOtherSessionsOfAccount(userId, sessionKey(sid)),
        (count) => [{ action: 'user.sessions_ended', target: { type: 'user', id: userId }, details: { count } }],
      );
    },

    /** The user deletes their own account (only where the pool allows it): every session and token ends with it. */
    async deleteAccount(pool: PoolRow, user: UserRow, locale?: Locale, record?: RecordChange): Promise<void> {
      if (!allowsDeletion(pool)) throw problems.notFound('Page');
      // `record` writes `user.deleted` with the deletion (ADR 0809).
      await users.deleteUser(pool.id, user.id, record);
      await notify(pool, user.id, 'account-deleted', () => mailer.send(accountDeletedMail(brandOf(pool), user.email, mailLocale(locale, user, pool))));
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
