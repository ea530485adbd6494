/**
 * Self-registration inside a sign-in (the user ends up signed in to the application):
 *   GET  /interaction/:uid/register          the form: email, password, fields the profile schema requires
 *   POST /interaction/:uid/register          checks policy and schema, mails a code bound to this interaction
 *   POST /interaction/:uid/register/verify   the code, typed in this same interaction, creates the active account and signs it in
 * Only when the pool has selfRegistration on; otherwise every route is a branded 404.
 */
import { localeOf } from '../../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { OnboardingService } from '../../users/onboarding.service.js';
import type { UserSchemas } from '../../users/user-schema.js';
import { requiredProfileFields } from '../../users/user-schema.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { csrfToken } from './csrf.js';
import { entryOf, expired, finishInteraction, loadDetails, TOO_MANY_MAILS, type Details } from './interactions.routes.js';
import {
  afterAnswer,
  fieldMessages,
  interactionBase,
  notOffered,
  readInteractionForm,
  recordSignIn,
  userChanges,
  type SignInRecorder,
  type UserEventRecorder,
} from './interaction-steps.js';

export interface RegistrationDeps {
  onboarding: OnboardingService;
  schemas: UserSchemas;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  /** Records the account a verified registration creates, and the sign-in it is (audit log and metrics). */
  audit?: SignInRecorder & UserEventRecorder;
}

/** Also the answer to a code that another browser's registration asked for: it works only where it was asked for. */
export const WRONG_REGISTRATION_CODE: PageMessage = { key: 'register.wrongCode', field: 'code' };

export function registerRegistrationRoutes(router: Router, deps: RegistrationDeps): void {
  async function openRegistration(ctx: Context): Promise<Details> {
    if (!entryOf(ctx).pool.self_registration) throw notOffered('self-registration');
    const details = await loadDetails(ctx);
    if (details.prompt.name !== 'login') throw expired();
    return details;
  }

  async function renderForm(ctx: Context, details: Details, values: Record<string, string>, errors: (PageMessage | string)[] = [], status = 200) {
    const { pool } = entryOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('register', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/register`,
      loginUrl: interactionBase(ctx),
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      fields: requiredProfileFields(deps.schemas.profileSchemaOf(pool)),
      values,
      errors,
      minLength: pool.password_policy.minLength,
    });
  }

  async function renderVerify(ctx: Context, details: Details, email: string, error?: PageMessage, status = 200) {
    const { pool } = entryOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('verify-email', pool, {
      locale: localeOf(ctx),
      action: `${interactionBase(ctx)}/register/verify`,
      csrf: csrfToken(deps.csrfKey, pool.id, details.uid),
      email,
      error,
      minutes: Math.round(deps.onboarding.codeTtlMs / 60_000),
      // Ways forward: the form again, with this address for a new code, or empty for another address.
      newCodeUrl: `${interactionBase(ctx)}/register?email=${encodeURIComponent(email)}`,
      changeEmailUrl: `${interactionBase(ctx)}/register`,
    });
  }

  router.get('/interaction/:uid/register', async function showRegistration(ctx) {
    const details = await openRegistration(ctx);
    const email =
      typeof ctx.query.email === 'string' ? ctx.query.email.slice(0, 320) : typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
    return renderForm(ctx, details, { email });
  });

  router.post('/interaction/:uid/register', async function submitRegistration(ctx) {
    const details = await openRegistration(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const { pool } = entryOf(ctx);
    const email = (form.email ?? '').trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) return renderForm(ctx, details, form, [{ key: 'validation.email', field: 'email' }], 400);
    const profile: Record<string, unknown> = {};
    for (const field of requiredProfileFields(deps.schemas.profileSchemaOf(pool))) {
      const raw = (form[`profile.${field.name}`] ?? '').trim();
      if (raw === '') continue; // left out: the schema reports it as required
      profile[field.name] = field.type === 'number' && raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
    }
    let outcome;
    try {
      outcome = await deps.onboarding.startRegistration(
        pool,
        { email, password: form.password ?? '', profile },
        { interactionId: details.uid, ip: ctx.ip, afterAnswer: afterAnswer(ctx), locale: localeOf(ctx) },
      );
    } catch (error) {
      const messages = fieldMessages(error, requiredProfileFields(deps.schemas.profileSchemaOf(pool)));
      if (!messages) throw error;
      return renderForm(ctx, details, { ...form, password: '' }, messages, 400);
    }
    if (outcome === 'throttled') return renderForm(ctx, details, { ...form, password: '' }, [TOO_MANY_MAILS], 429);
    return renderVerify(ctx, details, email);
  });

  router.post('/interaction/:uid/register/verify', async function verifyRegistration(ctx) {
    const details = await openRegistration(ctx);
    const form = await readInteractionForm(ctx, details, deps.csrfKey, deps.bodyLimitBytes);
    const email = (form.email ?? '').trim();
    const user = await deps.onboarding.completeRegistration(
      entryOf(ctx).pool,
      email,
      (form.code ?? '').trim(),
      { interactionId: details.uid },
      userChanges(ctx, deps.audit),
    );
    if (user) deps.audit?.queuedCommitted?.();
    // The verified registration signs the new user in: a sign-in by method "registration".
    await recordSignIn(ctx, deps.audit, {
      method: 'registration',
      outcome: user ? 'success' : 'failure',
      userId: user?.id,
      reason: user ? undefined : 'invalid_code',
      email,
    });
    if (!user) return renderVerify(ctx, details, email, WRONG_REGISTRATION_CODE, 401);
    return finishInteraction(ctx, details, { login: { accountId: user.id, amr: ['pwd', 'otp'] } });
  });
}
