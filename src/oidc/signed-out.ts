/**
 * The "signed out" page names the application and links back to it whenever the sign-out
 * came from a known application, in the language the sign-out was asked in. oidc-provider
 * passes the application on to that page only when the person ended that one application's
 * session; after "sign out everywhere" (the usual answer) it forgot it, and it never passes
 * the language on. This adds both to that redirect: the application's id, as the library does
 * itself in the other case, and the `ui_locales` the logout page's form sent
 * (views/logout.ejs); the page then reads them as every page does. A browser without a
 * session sees no logout page: oidc-provider's self-submitting form confirms at once, and its
 * address gets the language the request asked for.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { matchLocale } from '../i18n/negotiate.js';

export function signedOutPageKnowsClient() {
  return async function forwardClientToSignedOutPage(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route === 'end_session') return keepLanguageInConfirmation(ctx);
    if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303) return;
    const location = ctx.response.get('Location');
    if (!location.startsWith(ctx.oidc.urlFor('end_session_success'))) return;
    const target = new URL(location);
    const clientId = ctx.oidc.client?.clientId;
    if (clientId && !target.searchParams.has('client_id')) target.searchParams.set('client_id', clientId);
    const asked = (ctx.oidc.body as { ui_locales?: unknown } | undefined)?.ui_locales ?? ctx.query.ui_locales;
    const locale = typeof asked === 'string' ? matchLocale(asked) : undefined;
    if (locale) target.searchParams.set('ui_locales', locale);
    if (target.href !== location) ctx.redirect(target.href);
  };
}

function keepLanguageInConfirmation(ctx: KoaContextWithOIDC): void {
  const asked = ctx.oidc.params?.ui_locales;
  const locale = typeof asked === 'string' ? asked.split(/\s+/).map(matchLocale).find(Boolean) : undefined;
  if (!locale || typeof ctx.body !== 'string') return;
  const action = `action="${ctx.oidc.urlFor('end_session_confirm')}"`;
  if (!ctx.body.includes(action)) return;
  ctx.body = ctx.body.replace(action, `action="${ctx.oidc.urlFor('end_session_confirm')}?ui_locales=${encodeURIComponent(locale)}"`);
}
