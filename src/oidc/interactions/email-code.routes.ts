/**
 * Email one-time code sign-in (pool.signIn.emailCode):
 *   POST /interaction/:uid/email-code          "email me a code" (same page whether the email exists)
 *   POST /interaction/:uid/email-code/verify   6 digits → signed in (amr "otp"), or on to a second
 *                                              factor other than the email when MFA is demanded (docs/adr/0309)
 * Codes: 10 minutes, 5 attempts, single use, stored hashed (codes.service.ts). Every
 * failure has the same answer. Mail passes the mail limits (mail-limits.service.ts); a
 * network past its limit is told so (429). Off for the pool → branded 404.
 */
import { localeOf } from '../../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { OnboardingService } from '../../users/onboarding.service.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { csrfToken } from './csrf.js';
import { entryOf, expired, finishInteraction, loadDetails, TOO_MANY_MAILS, type Details } from './interactions.routes.js';
import type { PasskeyInteractions } from './passkey.routes.js';
import type { MfaInteractions } from './mfa.routes.js';
import { ACR_PASSWORD } from '../../mfa/acr.js';
import { afterAnswer, interactionBase, notOffered, readInteractionForm, recordSignIn, type SignInRecorder } from './interaction-steps.js';

export interface EmailCodeDeps {
  onboarding: OnboardingService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  /** Offers "add a passkey" after a code sign-in: the recovery path of a user whose passkey is lost. */
  passkeys?: PasskeyInteractions;
  /** Records each code sign-in, success or failure (audit log and metrics). */
  audit?: SignInRecorder;
  /** A second factor after the code, where the pool, application or request demands one (mfa.routes.ts). */
  mfa?: MfaInteractions;
}

export const WRONG_CODE: PageMessage = { key: 'emailCode.wrong', field: 'code' };

export function registerEmailCodeRoutes(router: Router, deps: EmailCodeDeps): void {
  async function open(ctx: Context): Promise<Details> {
    if (!entryOf(ctx).pool.sign_in.emailCode) throw notOffered('sign-in with an emailed code');
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    return details;
  }

  async function renderCodePage(ctx: Context, details: Details, email: string, error?: PageMessage | string, status = 200) {
    const { pool } = entryOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('email-code', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/email-code/verify`,
      resendAction: `${interactionBase(ctx)}/email-code`,
      loginUrl: interactionBase(ctx),
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      email,
      error,
      minutes: Math.round(deps.onboarding.codeTtlMs / 60_000),
    });
  }

  router.post('/interaction/:uid/email-code', async function sendCode(ctx) {
    const details = await open(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const email = (form.email ?? '').trim();
    const outcome = email
      ? await deps.onboarding.sendSignInCode(entryOf(ctx).pool, email, { ip: ctx.ip, afterAnswer: afterAnswer(ctx), locale: localeOf(ctx) })
      : 'sent';
    if (outcome === 'throttled') return renderCodePage(ctx, details, email, TOO_MANY_MAILS, 429);
    return renderCodePage(ctx, details, email);
  });

  router.post('/interaction/:uid/email-code/verify', async function verifyCode(ctx) {
    const details = await open(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const email = (form.email ?? '').trim();
    const result = await deps.onboarding.verifySignInCode(entryOf(ctx).pool, email, (form.code ?? '').trim());
    await recordSignIn(ctx, deps.audit, {
      method: 'email_code',
      outcome: result.ok ? 'success' : 'failure',
      userId: result.ok ? result.user.id : undefined,
      reason: result.ok ? undefined : 'invalid_code',
      email,
    });
    if (!result.ok) return renderCodePage(ctx, details, email, WRONG_CODE, 401);
    // One factor (the mailbox): acr says no second factor took place.
    const login = { login: { accountId: result.user.id, amr: ['otp'], acr: ACR_PASSWORD } };
    if (await deps.mfa?.askForSecondFactor(ctx, details, { accountId: result.user.id, amr: ['otp'], afterEmail: true })) return;
    if (await deps.passkeys?.offerEnrolment(ctx, details, login, { evenWithPasskeys: true })) return;
    return finishInteraction(ctx, details, login);
  });
}
