/**
 * The "signed out" page names the application and links back to it whenever the sign-out
 * came from a known application. oidc-provider passes the application on to that page only
 * when the person ended that one application's session; after "sign out everywhere" (the
 * usual answer) it forgot it. This adds the application's id to that redirect, as the library
 * does itself in the other case; the page then reads the application as it always does.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

export function signedOutPageKnowsClient() {
  return async function forwardClientToSignedOutPage(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    await next();
    const clientId = ctx.oidc?.client?.clientId;
    if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !clientId) return;
    const location = ctx.response.get('Location');
    const success = ctx.oidc.urlFor('end_session_success');
    if (!location.startsWith(success)) return;
    const target = new URL(location);
    if (target.searchParams.has('client_id')) return;
    target.searchParams.set('client_id', clientId);
    ctx.redirect(target.href);
  };
}
