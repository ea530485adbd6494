/**
 * Forgotten passwords:
 * - "Forgot password?": within the anonymous mail limits (mail-limits.service.ts), a mail
 *   with a one-time code and a link (10 minutes, single use, attempts bounded: codes.service.ts)
 *   goes to an active user. The answer is the same for every address, and the account lookup
 *   and the mail run after it is sent, so neither content nor timing tells whether the
 *   address has an account.
 * - An admin may send the same mail to any user who is not disabled (an invited user who
 *   resets becomes active, as activation would make them).
 * - The new password passes the pool's policy and must differ from the old one. Then every
 *   session, grant and token of the user is revoked, and a "your password was changed"
 *   notice is mailed. Audited.
 * - A reset never signs anyone in: the user signs in afterwards like anyone else, so every
 *   factor the sign-in asks for (a second factor included) is still asked for. A mailbox
 *   alone never takes over an account.
 */
import type { Db } from '../db/database.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import { changeWithEvents, type AuditActor, type AuditService, type RecordChange } from '../audit/audit.service.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import { mailBrandOf, mailLocale, passwordChangedMail, passwordResetMail } from '../mail/templates.js';
import type { Locale } from '../i18n/catalogues.js';
import { fieldError, problems } from '../http/problem.js';
import { CODE_TTL_MS, type CodeService, type TokenState } from './codes.service.js';
import { normalizeEmail } from './email.js';
import type { SignInGuard } from './lockout.service.js';
import type { MailLimits } from './mail-limits.service.js';
import type { MailOutcome, Requester } from './onboarding.service.js';
import type { PasswordHasher } from './password.js';
import { createUserQueries } from './users.queries.js';
import type { UserService } from './users.service.js';

export interface PasswordResetDeps {
  db: Db;
  users: UserService;
  codes: CodeService;
  guard: SignInGuard;
  hasher: PasswordHasher;
  mailer: Mailer;
  mailLimits: MailLimits;
  audit: AuditService;
  log: Logger;
  publicUrl: string;
  codeTtlMs?: number;
}

const canReset = (user: UserRow | undefined): user is UserRow => !!user && user.status !== 'disabled';

export function createPasswordResetService(deps: PasswordResetDeps) {
  const { db, users, codes, guard, hasher, mailer, mailLimits, audit, log, publicUrl } = deps;
  const codeTtlMs = deps.codeTtlMs ?? CODE_TTL_MS;
  const minutes = Math.max(1, Math.round(codeTtlMs / 60_000));

  function issueResetCode(pool: PoolRow, user: UserRow, executor: Db = db) {
    return codes.issueCode(pool.id, { purpose: 'password_reset', email: user.email, userId: user.id, ttlMs: codeTtlMs, withLinkToken: true }, executor);
  }

  async function mailResetLink(pool: PoolRow, user: UserRow, locale?: Locale): Promise<Date> {
    return mailResetCode(pool, user, await issueResetCode(pool, user), locale);
  }

  async function mailResetCode(pool: PoolRow, user: UserRow, issued: Awaited<ReturnType<typeof issueResetCode>>, locale?: Locale): Promise<Date> {
    const language = mailLocale(locale, user, pool);
    // The page the link opens speaks the mail's language, whatever the browser it is opened in.
    const link = `${publicUrl}/pools/${pool.id}/password-reset?token=${issued.token}&ui_locales=${encodeURIComponent(language)}`;
    await mailer.send(passwordResetMail(mailBrandOf(pool, publicUrl, language), user.email, link, issued.code, minutes, language));
    return issued.expiresAt;
  }

  /** The new password must not be the current one. Asked only of someone who holds a live code or link, so it is no oracle for guessing. */
  async function refuseCurrentPassword(user: UserRow, password: string, hint = ''): Promise<void> {
    if (user.password_hash && (await hasher.verify(user.password_hash, password))) {
      throw problems.validation([fieldError('password', `Choose a password different from your current one.${hint}`)], 'The new password is the current one.');
    }
  }

  /** Sets the new password of the user a code or link was issued to. undefined when the user can no longer reset. */
  async function setNewPassword(pool: PoolRow, userId: string, password: string, actor: AuditActor, locale?: Locale): Promise<UserRow | undefined> {
    const user = await createUserQueries(db, pool.id).findUser(userId);
    if (!canReset(user)) return undefined;
    await refuseCurrentPassword(user, password);
    const passwordHash = await hasher.hash(password);
    // The new password, the end of every session, grant, refresh token and lock, and the
    // user.password_reset event: one transaction (ADR 0809).
    const updated = await db.transaction().execute(async (trx) => {
      const changed = await createUserQueries(trx, pool.id).updateUser(user.id, {
        password_hash: passwordHash,
        password_change: null,
        status: 'active',
        email_verified: true,
      });
      await codes.revokeCodesOfUser(pool.id, user.id, 'password_reset', trx);
      // Every session, grant and refresh token ends: whoever knew the old password is out.
      await users.revokeAccess(pool.id, user.id, trx);
      await guard.clearLockout(pool.id, user.id, trx);
      await audit.record({ poolId: pool.id, action: 'user.password_reset', outcome: 'success', actor, target: { type: 'user', id: user.id } }, undefined, {
        executor: trx,
      });
      return changed;
    });
    audit.queuedCommitted();
    // Second factor: nothing here signs the user in. The next sign-in goes through the
    // login flow, which asks for the user's second factor; a reset keeps the factors as they are.
    try {
      // The notice is in the language of the page where the password was chosen.
      const language = mailLocale(locale, user, pool);
      await mailer.send(passwordChangedMail(mailBrandOf(pool, publicUrl, language), user.email, language));
    } catch (error) {
      // The password is changed either way; the notice failing must not make the user retry.
      log.error({ err: error, poolId: pool.id, userId: user.id }, 'password changed notice failed');
    }
    return updated;
  }

  return {
    codeTtlMs,

    /** "Forgot password?": the same outcome for every address; the lookup and mail follow the answer. */
    async requestReset(pool: PoolRow, rawEmail: string, requester: Omit<Requester, 'interactionId'>): Promise<MailOutcome> {
      const email = normalizeEmail(rawEmail);
      const allowance = await mailLimits.take(pool.id, email, requester.ip);
      if (allowance === 'ip') return 'throttled';
      if (allowance === 'address') return 'sent';
      const schedule = requester.afterAnswer ?? ((run: () => void) => setImmediate(run));
      schedule(() => {
        (async () => {
          const user = await createUserQueries(db, pool.id).findUserByEmail(email);
          if (user?.status !== 'active') return;
          await mailResetLink(pool, user, requester.locale);
        })().catch((error: unknown) => log.error({ err: error, poolId: pool.id, what: 'password-reset' }, 'mail failed'));
      });
      return 'sent';
    },

    /**
     * The admin's "send a password reset": any user who is not disabled. `record` writes the
     * request's event with the code it issues, in one transaction (ADR 0809); the mail follows
     * the commit (a mail that fails is answered 503: send it again).
     */
    async sendResetByAdmin(pool: PoolRow, userId: string, record?: RecordChange): Promise<{ sentTo: string; expiresAt: Date }> {
      const user = await users.getUserRow(pool.id, userId);
      if (user.status === 'disabled')
        throw problems.conflict('The user is disabled. Enable the user before sending a password reset.', [fieldError('status', 'The user is disabled.')]);
      const issued = await changeWithEvents(db, record, (executor) => issueResetCode(pool, user, executor));
      try {
        return { sentTo: user.email, expiresAt: await mailResetCode(pool, user, issued) };
      } catch (error) {
        log.error({ err: error, poolId: pool.id, userId: user.id }, 'password reset mail failed');
        throw problems.unavailable('The password reset mail could not be sent. Try again later.');
      }
    },

    inspectLink(poolId: string, token: string): Promise<TokenState> {
      return codes.findByToken(poolId, token);
    },

    /** The new password from the mailed link. undefined when the link is no longer usable. Throws a validation problem for a refused password. */
    async resetWithToken(pool: PoolRow, token: string, password: string, locale?: Locale): Promise<UserRow | undefined> {
      const found = await codes.findByToken(pool.id, token);
      if (found.state !== 'live' || found.row.purpose !== 'password_reset' || !found.row.user_id) return undefined;
      users.checkPassword(pool, password, found.row.email);
      // Checked before the link is used up, so that the person can try another password with it.
      const user = await createUserQueries(db, pool.id).findUser(found.row.user_id);
      if (!canReset(user)) return undefined;
      await refuseCurrentPassword(user, password);
      if (!(await codes.consume(pool.id, found.row.id))) return undefined;
      return setNewPassword(pool, found.row.user_id, password, { kind: 'user', id: found.row.user_id }, locale);
    },

    /** The same with the typed code. */
    async resetWithCode(pool: PoolRow, rawEmail: string, code: string, password: string, locale?: Locale): Promise<UserRow | undefined> {
      const email = normalizeEmail(rawEmail);
      users.checkPassword(pool, password, email);
      const row = await codes.useCode(pool.id, 'password_reset', email, code);
      if (!row?.user_id) return undefined;
      // The code is used up by now (a right code cannot be told from a wrong one before): a refused password needs a new code.
      const user = await createUserQueries(db, pool.id).findUser(row.user_id);
      if (!canReset(user)) return undefined;
      await refuseCurrentPassword(user, password, ' Ask for a new code.');
      return setNewPassword(pool, row.user_id, password, { kind: 'user', id: row.user_id }, locale);
    },
  };
}

export type PasswordResetService = ReturnType<typeof createPasswordResetService>;
