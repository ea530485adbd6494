/**
 * Forgotten password (where the pool offers password sign-in):
 *   GET  /password-reset            asks for the email ("Forgot password?" on the login page)
 *   POST /password-reset            mails a code and link; the same page for every address
 *   GET  /password-reset?token=…    the link from the mail: choose a new password
 *   POST /password-reset/new        sets it (by link token, or by email + code)
 * Nobody is signed in here: the done page sends the user back to sign in normally.
 * The language: `ui_locales` in the address (the login page and the mailed link put theirs
 * there, and every form posts back with it), then the browser's, then the pool's default.
 * A used, replaced or expired link gets a branded 410, never a form.
 * CSRF: double-submit, a random cookie on this path and a form field that is its HMAC.
 */
import { localeOf } from '../../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import { hmac, safeEqual } from '../../crypto/secrets.js';
import { readForm } from '../../http/body.js';
import type { PasswordResetService } from '../../users/password-reset.service.js';
import type { PageMessage, PageRenderer } from '../../views/render.js';
import { entryOf, HostedPageError, TOO_MANY_MAILS } from './interactions.routes.js';
import { afterAnswer, fieldMessages, notOffered } from './interaction-steps.js';

export interface PasswordResetRouteDeps {
  resets: PasswordResetService;
  pages: PageRenderer;
  csrfKey: Buffer;
  bodyLimitBytes: number;
}

const COOKIE = '_tarn_reset';
export const WRONG_RESET_CODE: PageMessage = { key: 'reset.wrongCode', field: 'code' };

const linkUnusable = () => new HostedPageError(410, 'resetLink');

export function registerPasswordResetRoutes(router: Router, deps: PasswordResetRouteDeps): void {
  const base = (ctx: Context) => `/pools/${entryOf(ctx).pool.id}/password-reset`;
  /** Where a form posts: the page's language goes with it. */
  const actionOf = (ctx: Context, path: string) => `${path}?${new URLSearchParams({ ui_locales: localeOf(ctx) }).toString()}`;

  function open(ctx: Context) {
    const { pool } = entryOf(ctx);
    if (!pool.sign_in.password) throw notOffered('password sign-in');
    return pool;
  }

  function csrfFor(ctx: Context): string {
    let nonce = ctx.cookies.get(COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
      nonce = randomBytes(18).toString('base64url');
      ctx.cookies.set(COOKIE, nonce, { path: base(ctx), httpOnly: true, sameSite: 'strict', signed: false, overwrite: true });
    }
    return hmac(deps.csrfKey, `reset:${entryOf(ctx).pool.id}:${nonce}`);
  }

  async function readResetForm(ctx: Context): Promise<Record<string, string>> {
    const form = await readForm(ctx, deps.bodyLimitBytes);
    const nonce = ctx.cookies.get(COOKIE);
    const expected = nonce ? hmac(deps.csrfKey, `reset:${entryOf(ctx).pool.id}:${nonce}`) : undefined;
    if (!expected || typeof form.csrf !== 'string' || !safeEqual(form.csrf, expected)) {
      throw new HostedPageError(403, 'csrf');
    }
    return form;
  }

  async function render(ctx: Context, view: string, locals: Record<string, unknown>, status = 200) {
    const pool = entryOf(ctx).pool;
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.pages.render(view, pool, { locale: localeOf(ctx), ...locals });
  }

  const renderAsk = (ctx: Context, email: string, error?: PageMessage | string, status = 200) =>
    render(ctx, 'forgot-password', { action: actionOf(ctx, base(ctx)), csrf: csrfFor(ctx), email, error }, status);

  const renderNew = (ctx: Context, locals: { token?: string; email: string; errors?: (PageMessage | string)[] }, status = 200) =>
    render(
      ctx,
      'reset-password',
      {
        action: actionOf(ctx, `${base(ctx)}/new`),
        csrf: csrfFor(ctx),
        token: locals.token ?? '',
        email: locals.email,
        errors: locals.errors ?? [],
        minutes: Math.round(deps.resets.codeTtlMs / 60_000),
        minLength: entryOf(ctx).pool.password_policy.minLength,
      },
      status,
    );

  router.get('/password-reset', async function showPasswordReset(ctx) {
    const pool = open(ctx);
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : undefined;
    if (token === undefined) return renderAsk(ctx, '');
    const found = await deps.resets.inspectLink(pool.id, token);
    if (found.state !== 'live' || found.row.purpose !== 'password_reset') throw linkUnusable();
    return renderNew(ctx, { token, email: found.row.email });
  });

  router.post('/password-reset', async function requestPasswordReset(ctx) {
    const pool = open(ctx);
    const form = await readResetForm(ctx);
    const email = (form.email ?? '').trim();
    if (!email) return renderAsk(ctx, '', { key: 'forgot.emailMissing', field: 'email' }, 400);
    const outcome = await deps.resets.requestReset(pool, email, { ip: ctx.ip, afterAnswer: afterAnswer(ctx), locale: localeOf(ctx) });
    if (outcome === 'throttled') return renderAsk(ctx, email, TOO_MANY_MAILS, 429);
    return renderNew(ctx, { email });
  });

  router.post('/password-reset/new', async function setNewPassword(ctx) {
    const pool = open(ctx);
    const form = await readResetForm(ctx);
    const token = form.token ?? '';
    const email = (form.email ?? '').trim();
    const password = form.password ?? '';
    let user;
    try {
      user = token
        ? await deps.resets.resetWithToken(pool, token, password, localeOf(ctx))
        : await deps.resets.resetWithCode(pool, email, (form.code ?? '').trim(), password, localeOf(ctx));
    } catch (error) {
      const messages = fieldMessages(error);
      if (!messages) throw error;
      return renderNew(ctx, { token, email, errors: messages }, 400);
    }
    if (!user && token) throw linkUnusable();
    if (!user) return renderNew(ctx, { email, errors: [WRONG_RESET_CODE] }, 401);
    ctx.cookies.set(COOKIE, '', { path: base(ctx), maxAge: 0 });
    return render(ctx, 'password-reset-done', { email: user.email });
  });
}
