/**
 * Activation of an invited user (admin creation with mode "invite"):
 *   GET  /activate?token=…   the link from the mail: choose a password
 *   GET  /activate           no link at hand: email + the code from the mail + password
 *   POST /activate           sets the password (pool policy); the user becomes active
 * A used, replaced or expired link gets a clear branded page (410), never a form.
 * CSRF: double-submit — a random cookie on this path and a form field that is its HMAC.
 */
import { localeOf } from '../../i18n/request-locale.js';
import type { PasskeyInteractions } from './passkey.routes.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import { hmac, safeEqual } from '../../crypto/secrets.js';
import { readForm } from '../../http/body.js';
import type { OnboardingService } from '../../users/onboarding.service.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { entryOf, HostedPageError } from './interactions.routes.js';
import { fieldMessages, userChanges, type UserEventRecorder } from './interaction-steps.js';

export interface ActivationDeps {
  onboarding: OnboardingService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
  /** Offers "add a passkey" right after activation, where the pool offers passkeys. */
  passkeys?: PasskeyInteractions;
  /** Records the activation (audit log). */
  audit?: UserEventRecorder;
}

const COOKIE = '_tarn_activate';

const linkUnusable = () => new HostedPageError(410, 'activationLink');

export function registerActivationRoutes(router: Router, deps: ActivationDeps): void {
  const cookiePath = (ctx: Context) => `/pools/${entryOf(ctx).pool.id}/activate`;

  function csrfFor(ctx: Context): string {
    let nonce = ctx.cookies.get(COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
      nonce = randomBytes(18).toString('base64url');
      ctx.cookies.set(COOKIE, nonce, { path: cookiePath(ctx), httpOnly: true, sameSite: 'strict', signed: false, overwrite: true });
    }
    return hmac(deps.csrfKey, `activate:${entryOf(ctx).pool.id}:${nonce}`);
  }

  function csrfOk(ctx: Context, token: string | undefined): boolean {
    const nonce = ctx.cookies.get(COOKIE);
    return !!nonce && typeof token === 'string' && safeEqual(token, hmac(deps.csrfKey, `activate:${entryOf(ctx).pool.id}:${nonce}`));
  }

  async function renderForm(ctx: Context, locals: { token?: string; email?: string; errors?: (PageMessage | string)[] }, status = 200) {
    const { pool } = entryOf(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('activate', pool, {
      locale: localeOf(ctx),
      action: `/pools/${pool.id}/activate`,
      csrf: csrfFor(ctx),
      token: locals.token ?? '',
      email: locals.email ?? '',
      errors: locals.errors ?? [],
      minLength: pool.password_policy.minLength,
    });
  }

  router.get('/activate', async function showActivation(ctx) {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : undefined;
    if (token === undefined) return renderForm(ctx, {});
    const found = await deps.onboarding.inspectInvitation(entryOf(ctx).pool.id, token);
    if (found.state !== 'live') throw linkUnusable();
    return renderForm(ctx, { token, email: found.row.email });
  });

  router.post('/activate', async function submitActivation(ctx) {
    const form = await readForm(ctx, deps.bodyLimitBytes);
    if (!csrfOk(ctx, form.csrf)) throw new HostedPageError(403, 'csrf');
    const { pool } = entryOf(ctx);
    const password = form.password ?? '';
    const token = form.token ?? '';
    const email = (form.email ?? '').trim();
    let user;
    try {
      user = token
        ? await deps.onboarding.activateWithToken(pool, token, password, userChanges(ctx, deps.audit))
        : await deps.onboarding.activateWithCode(pool, email, (form.code ?? '').trim(), password, userChanges(ctx, deps.audit));
    } catch (error) {
      const messages = fieldMessages(error);
      if (!messages) throw error;
      return renderForm(ctx, { token, email, errors: messages }, 400);
    }
    if (!user && token) throw linkUnusable();
    if (!user) return renderForm(ctx, { email, errors: [{ key: 'activate.wrongCode', field: 'code' }] }, 401);
    ctx.cookies.set(COOKIE, '', { path: cookiePath(ctx), maxAge: 0 });
    deps.audit?.queuedCommitted?.();
    if (await deps.passkeys?.offerStandaloneEnrolment(ctx, user.id)) return;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render('activated', pool, { locale: localeOf(ctx), email: user.email });
  });
}
