/**
 * The second factor inside a sign-in interaction (docs/adr/0307), after a right password:
 *   POST /interaction/:uid/mfa/totp    a code from the user's authenticator app → signed in
 *   POST /interaction/:uid/mfa/recovery   a recovery code instead (each works once) → signed in
 *   POST /interaction/:uid/mfa/enrol   the first code of a newly scanned app → enrolled, signed in,
 *                                      and the ten recovery codes shown once before going on
 *   POST /interaction/:uid/mfa/skip    not now (pool policy `optional` only): signed in with the password
 *   GET  /interaction/:uid/mfa         the choice of second factors again ("Choose another way")
 *   POST /interaction/:uid/mfa/passkey          the user's own passkeys, asked of the browser
 *   POST /interaction/:uid/mfa/passkey/verify   the browser's assertion → signed in (docs/adr/0309)
 *   POST /interaction/:uid/mfa/email            a 6-digit code mailed to the verified address (where the pool allows it)
 *   POST /interaction/:uid/mfa/email/verify     that code → signed in
 * The second factor follows a password or an emailed sign-in code (then the email cannot be
 * the second factor too). MFA is demanded by the pool (`required`), by the application
 * (`requireMfa`) or by the request (`acr_values`); where it is only `optional`, a user is asked
 * for a factor they set up (app or passkey). The password's result is kept in the interaction as `mfaPending`, not as `login`: the
 * provider treats the interaction as unfinished until a factor (or, where allowed, the
 * skip) turns it into a login. Wrong codes answer 401, which the request frame's login
 * limiter counts like wrong passwords; the user's lockout counts them too (mfa.service.ts).
 */
import { localeOf } from '../../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { requestIdOf } from '../../http/state.js';
import { ACR_MFA, ACR_PASSWORD, clientRequiresMfa, requestsMfa } from '../../mfa/acr.js';
import { mfaPolicy, type FactorChoice, type MfaService } from '../../mfa/mfa.service.js';
import { PasskeyRefused, type PasskeyService } from '../../passkeys/passkeys.service.js';
import { CODE_TTL_MS } from '../../users/codes.service.js';
import type { UserService } from '../../users/users.service.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import ejs from 'ejs';
import { translatorFor } from '../../i18n/translator.js';
import { csrfToken } from './csrf.js';
import { interactionBase, readInteractionForm } from './interaction-steps.js';
import { entryOf, expired, finishInteraction, loadDetails, saveInteractionResult, TOO_MANY_MAILS, type Details } from './interactions.routes.js';

export interface MfaInteractionDeps {
  mfa: MfaService;
  users: UserService;
  /** Passkeys as a second factor (the user's own, asked of the browser). */
  passkeys?: PasskeyService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  audit?: {
    signIn(event: {
      poolId: string;
      method: string;
      outcome: 'success' | 'failure';
      userId?: string;
      reason?: string;
      ip?: string;
      requestId?: string;
    }): Promise<void>;
  };
}

export interface PendingLogin {
  accountId: string;
  amr: string[];
  /** The first factor was an emailed code: the second cannot be the email again. */
  afterEmail?: boolean;
}

export const WRONG_RECOVERY_CODE: PageMessage = { key: 'mfa.totp.wrongRecovery', field: 'recovery_code' };
export const WRONG_TOTP: PageMessage = { key: 'mfa.totp.wrong', field: 'code' };
export const WRONG_EMAIL_CODE: PageMessage = { key: 'mfa.email.wrong', field: 'code' };
export const WRONG_PASSKEY: PageMessage = { key: 'mfa.passkey.wrong' };

function pendingLogin(details: Details): PendingLogin {
  const pending = (details.result as { mfaPending?: Partial<PendingLogin> } | undefined)?.mfaPending;
  if (typeof pending?.accountId !== 'string' || !Array.isArray(pending.amr)) throw expired();
  return {
    accountId: pending.accountId,
    amr: pending.amr.filter((item): item is string => typeof item === 'string'),
    afterEmail: pending.afterEmail === true,
  };
}

/** Whether the application itself requires a second factor for every sign-in (client `requireMfa`). */
async function clientDemands(ctx: Context, details: Details): Promise<boolean> {
  const client = await entryOf(ctx).provider.Client.find(String(details.params.client_id));
  return clientRequiresMfa(client);
}

/** The request (acr_values) or the application asks for a second factor, whatever the pool's policy. */
async function requestDemands(ctx: Context, details: Details): Promise<boolean> {
  return requestsMfa(details.params.acr_values) || (await clientDemands(ctx, details));
}

/** "Not now" exists only where the pool makes MFA optional and neither the request nor the application demands it. */
async function maySkip(ctx: Context, details: Details): Promise<boolean> {
  return mfaPolicy(entryOf(ctx).pool) === 'optional' && !(await requestDemands(ctx, details));
}

/** A factor the user set up themselves (not the pool's emailed code). */
const hasEnrolled = (choice: FactorChoice) => choice.totp || choice.passkey;
const canPass = (choice: FactorChoice) => choice.totp || choice.passkey || choice.email;

export function createMfaInteractions(deps: MfaInteractionDeps) {
  async function pendingUser(ctx: Context, pending: PendingLogin) {
    const user = await deps.users.findActiveUser(entryOf(ctx).pool.id, pending.accountId);
    if (!user) throw expired();
    return user;
  }

  async function choiceFor(ctx: Context, pending: PendingLogin): Promise<FactorChoice> {
    const choice = await deps.mfa.factorChoice(entryOf(ctx).pool, await pendingUser(ctx, pending), { afterEmail: pending.afterEmail === true });
    return { ...choice, passkey: choice.passkey && Boolean(deps.passkeys) };
  }

  /** The second-factor page: the app's code (and recovery codes), a passkey, an emailed code — each only when the user can pass it. */
  async function renderChoice(ctx: Context, details: Details, choice: FactorChoice, error?: PageMessage) {
    const { pool } = entryOf(ctx);
    const base = interactionBase(ctx);
    ctx.status = error ? 401 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-totp', pool, {
      locale: localeOf(ctx),
      action: choice.totp ? `${base}/mfa/totp` : undefined,
      recoveryAction: `${base}/mfa/recovery`,
      passkeyAction: choice.passkey ? `${base}/mfa/passkey` : undefined,
      emailAction: choice.email ? `${base}/mfa/email` : undefined,
      abortUrl: `${base}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      error,
    });
  }

  async function renderPasskey(ctx: Context, details: Details, email: string, error?: PageMessage) {
    const { pool } = entryOf(ctx);
    if (!deps.passkeys) throw expired();
    const base = interactionBase(ctx);
    // The user's own credentials only: the challenge is bound to this user and this sign-in.
    const options = await deps.passkeys.startAuthentication(pool, email, { interactionUid: details.uid });
    ctx.status = error ? 401 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-passkey', pool, {
      locale: localeOf(ctx),
      action: `${base}/mfa/passkey/verify`,
      otherWaysUrl: `${base}/mfa`,
      abortUrl: `${base}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      options: JSON.stringify(options),
      email,
      error,
    });
  }

  async function renderEmail(ctx: Context, details: Details, email: string, error?: PageMessage | string, status?: number) {
    const { pool } = entryOf(ctx);
    const base = interactionBase(ctx);
    ctx.status = status ?? (error ? 401 : 200);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-email', pool, {
      locale: localeOf(ctx),
      action: `${base}/mfa/email/verify`,
      resendAction: `${base}/mfa/email`,
      otherWaysUrl: `${base}/mfa`,
      abortUrl: `${base}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      email,
      minutes: Math.round(CODE_TTL_MS / 60_000),
      error,
    });
  }

  async function renderEnrol(ctx: Context, details: Details, accountId: string, error?: PageMessage) {
    const { pool } = entryOf(ctx);
    const user = await deps.users.findActiveUser(pool.id, accountId);
    if (!user) throw expired();
    const enrolment = await deps.mfa.startTotpEnrolment(pool, user);
    if (!enrolment) throw expired();
    ctx.status = error ? 400 : 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('mfa-enrol', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/mfa/enrol`,
      skipUrl: (await maySkip(ctx, details)) ? `${interactionBase(ctx)}/mfa/skip` : undefined,
      abortUrl: `${interactionBase(ctx)}/abort`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      secret: enrolment.secret,
      // The SVG of the qrcode library: markup without script, labelled for screen readers.
      qrSvg: enrolment.qrSvg.replace('<svg ', `<svg role="img" aria-label="${ejs.escapeXML(translatorFor(localeOf(ctx)).t('mfa.enrol.qrLabel'))}" `),
      email: user.email,
      error,
    });
  }

  async function openPending(ctx: Context): Promise<{ details: Details; pending: PendingLogin }> {
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    return { details, pending: pendingLogin(details) };
  }

  /** The first factor's methods, the second's, and `mfa` (RFC 8176). */
  const withSecondFactor = (pending: PendingLogin, methods: string[] = ['otp']) => ({
    login: { accountId: pending.accountId, amr: [...new Set([...pending.amr, ...methods, 'mfa'])], acr: ACR_MFA },
  });

  /**
   * Keeps the first factor's result aside and answers with the second factor's page: the
   * factors the user can pass, or, with none, enrolment of an authenticator app.
   */
  async function askFor(ctx: Context, details: Details, pending: PendingLogin, choice: FactorChoice): Promise<void> {
    await saveInteractionResult(ctx, { mfaPending: pending });
    if (canPass(choice)) await renderChoice(ctx, details, choice);
    else await renderEnrol(ctx, details, pending.accountId);
  }

  async function audit(ctx: Context, outcome: 'success' | 'failure', userId: string, method = 'totp') {
    await deps.audit?.signIn({
      poolId: entryOf(ctx).pool.id,
      method,
      outcome,
      userId,
      reason: outcome === 'failure' ? 'invalid' : undefined,
      ip: ctx.ip,
      requestId: requestIdOf(ctx),
    });
  }

  return {
    /**
     * After a right first factor (a password, or an emailed sign-in code with `afterEmail`):
     * when MFA is demanded (pool `required`, the application, or the request) or the user set
     * up a factor (pool `optional`), keep the first factor's result aside and answer with the
     * second factor's page (true); else false, and the caller finishes the interaction.
     */
    async askForSecondFactor(ctx: Context, details: Details, login: PendingLogin): Promise<boolean> {
      const { pool } = entryOf(ctx);
      const policy = mfaPolicy(pool);
      const demanded = policy === 'required' || (await requestDemands(ctx, details));
      if (policy === 'off' && !demanded) return false;
      const choice = await choiceFor(ctx, login);
      // Optional, after an emailed code: asked only for an app set up (which has recovery codes). A user with
      // only a passkey goes on: the emailed code is the way back in after a lost passkey (ADR 0500), and the
      // enrolment offer (with "Not now") comes after a password only.
      if (!demanded && login.afterEmail && !choice.totp) return false;
      await askFor(ctx, details, login, demanded ? choice : { ...choice, email: choice.email && hasEnrolled(choice) });
      return true;
    },

    /**
     * Step-up: the application asked for MFA (acr_values) and the session's sign-in had none.
     * The signed-in user is asked for the missing factor (or to enrol one), not for the password
     * again. False when there is no active signed-in user: the login page then asks for everything.
     */
    async stepUp(ctx: Context, details: Details): Promise<boolean> {
      const { pool } = entryOf(ctx);
      const accountId = details.session?.accountId;
      if (!accountId || !(await requestDemands(ctx, details))) return false;
      // Only when the missing factor is all the provider asks for: past max_age or with prompt=login, the login page asks for everything.
      if (details.prompt.reasons.some((reason) => reason !== 'mfa_requested')) return false;
      if (!(await deps.users.findActiveUser(pool.id, accountId))) return false;
      const session = details.session as { amr?: unknown };
      const amr = Array.isArray(session.amr) ? session.amr.filter((item): item is string => typeof item === 'string') : [];
      // A session that began with an emailed code (amr "otp" without "pwd") needs a factor other than the email.
      const pending = { accountId, amr, afterEmail: amr.includes('otp') && !amr.includes('pwd') };
      await askFor(ctx, details, pending, await choiceFor(ctx, pending));
      return true;
    },

    register(router: Router): void {
      router.post('/interaction/:uid/mfa/totp', async function submitTotp(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const ok = await deps.mfa.verifyTotp(entryOf(ctx).pool, pending.accountId, form.code ?? '');
        await audit(ctx, ok ? 'success' : 'failure', pending.accountId);
        if (!ok) return renderChoice(ctx, details, await choiceFor(ctx, pending), WRONG_TOTP);
        return finishInteraction(ctx, details, withSecondFactor(pending));
      });

      router.post('/interaction/:uid/mfa/enrol', async function confirmEnrolment(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const { pool } = entryOf(ctx);
        if (!(await deps.mfa.confirmTotp(pool, pending.accountId, form.code ?? ''))) {
          return renderEnrol(ctx, details, pending.accountId, WRONG_TOTP);
        }
        const codes = await deps.mfa.regenerateRecoveryCodes(pool.id, pending.accountId);
        // Signed in from here on: the codes page only links on to the application.
        const returnTo = await saveInteractionResult(ctx, withSecondFactor(pending));
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await deps.pages.render('mfa-recovery-codes', pool, { locale: localeOf(ctx), codes, continueUrl: returnTo });
      });

      router.post('/interaction/:uid/mfa/recovery', async function submitRecoveryCode(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const ok = await deps.mfa.useRecoveryCode(entryOf(ctx).pool, pending.accountId, form.recovery_code ?? '');
        await audit(ctx, ok ? 'success' : 'failure', pending.accountId, 'recovery_code');
        if (!ok) return renderChoice(ctx, details, await choiceFor(ctx, pending), WRONG_RECOVERY_CODE);
        // RFC 8176 has no value for a recovery code: it is a second factor ("mfa"), not an app code ("otp").
        return finishInteraction(ctx, details, {
          login: { accountId: pending.accountId, amr: [...new Set([...pending.amr, 'mfa'])], acr: ACR_MFA },
        });
      });

      // A form with the interaction's CSRF token, not a link: "Not now" changes what the sign-in ends with.
      router.post('/interaction/:uid/mfa/skip', async function skipEnrolment(ctx) {
        const { details, pending } = await openPending(ctx);
        await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        // Only where enrolment is optional, and only for a user who has no factor to pass.
        if (!(await maySkip(ctx, details)) || hasEnrolled(await choiceFor(ctx, pending))) throw expired();
        return finishInteraction(ctx, details, { login: { accountId: pending.accountId, amr: pending.amr, acr: ACR_PASSWORD } });
      });
      router.get('/interaction/:uid/mfa', async function showChoice(ctx) {
        const { details, pending } = await openPending(ctx);
        const choice = await choiceFor(ctx, pending);
        if (!canPass(choice)) return renderEnrol(ctx, details, pending.accountId);
        return renderChoice(ctx, details, choice);
      });

      router.post('/interaction/:uid/mfa/passkey', async function askPasskey(ctx) {
        const { details, pending } = await openPending(ctx);
        await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        if (!(await choiceFor(ctx, pending)).passkey) throw expired();
        return renderPasskey(ctx, details, (await pendingUser(ctx, pending)).email);
      });

      router.post('/interaction/:uid/mfa/passkey/verify', async function verifyPasskey(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        const { pool } = entryOf(ctx);
        const user = await pendingUser(ctx, pending);
        if (!deps.passkeys || !(await choiceFor(ctx, pending)).passkey) throw expired();
        let synced: boolean | undefined;
        // A locked user's right passkey fails too, like a locked user's right code.
        if (!(await deps.mfa.isLocked(pool.id, user.id))) {
          try {
            const proved = await deps.passkeys.verifyAssertion(pool, form.credential, { interactionUid: details.uid });
            if (proved.user.id === user.id) synced = proved.synced;
          } catch (error) {
            if (!(error instanceof PasskeyRefused)) throw error;
          }
        }
        await audit(ctx, synced === undefined ? 'failure' : 'success', user.id, 'passkey_second_factor');
        if (synced === undefined) {
          await deps.mfa.recordFailure(pool, user.id);
          return renderPasskey(ctx, details, user.email, WRONG_PASSKEY);
        }
        await deps.mfa.recordSuccess(pool.id, user.id);
        // RFC 8176: swk for a synced passkey, hwk for one bound to its device; user verification took place.
        return finishInteraction(ctx, details, withSecondFactor(pending, [synced ? 'swk' : 'hwk', 'user']));
      });

      router.post('/interaction/:uid/mfa/email', async function sendEmailCode(ctx) {
        const { details, pending } = await openPending(ctx);
        await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        if (!(await choiceFor(ctx, pending)).email) throw expired();
        const user = await pendingUser(ctx, pending);
        const outcome = await deps.mfa.sendEmailCode(entryOf(ctx).pool, user, details.uid, ctx.ip, localeOf(ctx));
        if (outcome === 'throttled') return renderEmail(ctx, details, user.email, TOO_MANY_MAILS, 429);
        return renderEmail(ctx, details, user.email);
      });

      router.post('/interaction/:uid/mfa/email/verify', async function verifyEmailCode(ctx) {
        const { details, pending } = await openPending(ctx);
        const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
        if (!(await choiceFor(ctx, pending)).email) throw expired();
        const user = await pendingUser(ctx, pending);
        const ok = await deps.mfa.verifyEmailCode(entryOf(ctx).pool, user, form.code ?? '', details.uid);
        await audit(ctx, ok ? 'success' : 'failure', user.id, 'email_code_second_factor');
        if (!ok) return renderEmail(ctx, details, user.email, WRONG_EMAIL_CODE);
        // RFC 8176 otp: a one-time code, however it reached the user (docs/adr/0309).
        return finishInteraction(ctx, details, withSecondFactor(pending, ['otp']));
      });
    },
  };
}

export type MfaInteractions = ReturnType<typeof createMfaInteractions>;
