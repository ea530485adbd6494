/**
 * The hosted pages of the device authorization grant (RFC 8628 §3.3): the user-code
 * input page, the confirmation page and the success page, rendered with the pool's
 * branding instead of oidc-provider's built-in HTML (which carries inline styles and
 * script the CSP forbids).
 * - The forms post to oidc-provider's code_verification endpoint with its own CSRF
 *   token (`xsrf`, bound to the browser's session), taken from the form it generated.
 * - A wrong, expired, used or cancelled code re-renders the input page with a message;
 *   nothing says whether a code exists beyond "incorrect".
 */
import { localeOf } from '../i18n/request-locale.js';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { PoolRow } from '../db/tables.js';
import type { PageMessage, PageRenderer } from '../views/render.js';

/**
 * The value of a hidden field in the form oidc-provider generated. Its documented hook hands
 * Tarn that form only as HTML (features.deviceFlow.userCodeInputSource), so this reads that
 * HTML; a shape it does not recognise is a fault, never an empty token
 * (test/oidc/library-assumptions.test.ts pins the shape).
 */
export function hiddenFieldOf(form: string, name: string): string {
  const value = new RegExp(`<input type="hidden" name="${name}" value="([^"]+)"`).exec(form)?.[1];
  if (value === undefined) throw new Error(`oidc-provider's device form has no ${name} field in the expected shape`);
  return value;
}

function messageFor(error: (Error & { userCode?: string }) | undefined): PageMessage | undefined {
  if (!error) return undefined;
  switch (error.name) {
    case 'NoCodeError':
    case 'NotFoundError':
      return { key: 'device.error.incorrect', field: 'user_code' };
    case 'ExpiredError':
      return { key: 'device.error.expired', field: 'user_code' };
    case 'AlreadyUsedError':
      return { key: 'device.error.used', field: 'user_code' };
    case 'AbortedError':
      return { key: 'device.error.aborted' };
    default:
      return { key: 'device.error.other' };
  }
}

export function createDevicePages(pages: PageRenderer, pool: PoolRow) {
  const action = (ctx: KoaContextWithOIDC) => ctx.oidc.urlFor('code_verification');
  return {
    async userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out?: unknown, error?: Error & { userCode?: string }) {
      ctx.type = 'html';
      ctx.body = await pages.render('device-code', pool, {
        locale: localeOf(ctx, pool),
        action: action(ctx),
        xsrf: hiddenFieldOf(form, 'xsrf'),
        userCode: error?.name === 'AbortedError' ? '' : (error?.userCode ?? ''),
        error: messageFor(error),
      });
    },

    async userCodeConfirmSource(
      ctx: KoaContextWithOIDC,
      form: string,
      client: { clientName?: string; clientId: string },
      _deviceInfo: unknown,
      userCode: string,
    ) {
      ctx.type = 'html';
      ctx.body = await pages.render('device-confirm', pool, {
        locale: localeOf(ctx, pool),
        action: action(ctx),
        xsrf: hiddenFieldOf(form, 'xsrf'),
        userCode,
        clientName: client.clientName ?? client.clientId,
      });
    },

    async successSource(ctx: KoaContextWithOIDC) {
      ctx.type = 'html';
      ctx.body = await pages.render('device-success', pool, { locale: localeOf(ctx, pool), clientName: ctx.oidc.client?.clientName });
    },
  };
}

/**
 * A form posted to the device page without the browser's session cookie (so without the
 * session its `xsrf` belongs to) goes back to the input page as a GET, which starts one.
 * oidc-provider would render its input page again with a new `xsrf` on a session it never
 * stored, then fail to save that session: a 500 for a form sent without cookies.
 */
export function deviceFormNeedsSession(sessionCookie: string) {
  return function deviceFormWithoutSession(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== '/device' || ctx.cookies.get(sessionCookie)) return next();
    ctx.status = 303;
    ctx.redirect(`${(ctx as { mountPath?: string }).mountPath ?? ''}/device`);
    return Promise.resolve();
  };
}
