/**
 * POST at the authorization and end-session endpoints (OIDC Core §3.1.2.1, RP-Initiated
 * Logout §2: the OP MUST support GET and POST), served in place: the POST's parameters
 * become the query of the same request, which the provider then serves as a GET. No
 * redirect carries them, so nothing of the body (an id_token_hint, a login_hint) reaches
 * the browser's address bar, history, or a Referer.
 * - Duplicated parameters are kept as sent, so the provider still refuses them (OIDC Core
 *   §3.1.2.2); the body limit and media type are those of every hosted form.
 * - Tarn's cookies are SameSite=Lax, and a cross-site POST carries none of them, so the
 *   provider would not see the browser's session (no single sign-on, no logout of it).
 *   A POST the browser marks cross-site (`Sec-Fetch-Site`) is therefore answered with a
 *   page that posts the same parameters again from Tarn's own origin (automatically, or
 *   with its button); that POST carries the cookies and is served in place. The page
 *   holds the parameters in its form only, never in a URL. (ADR 0602)
 */
import { localeOf } from '../i18n/request-locale.js';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { readFormParameters } from '../http/body.js';
import type { PageRenderer } from '../views/render.js';
import type { PoolProvider } from './provider-registry.js';

/** The field that marks the second, same-origin POST (removed before the provider sees the parameters). */
export const REPOSTED = '_tarn_reposted';

export interface PostToGetDeps {
  pages: PageRenderer;
  bodyLimitBytes: number;
  /** Runs the pool's provider on the request as it now stands (pool-gateway.ts). */
  callProvider(ctx: Context, entry: PoolProvider): Promise<void>;
}

export function registerPostToGetRoutes(router: Router, deps: PostToGetDeps): void {
  for (const path of ['/auth', '/session/end']) {
    router.post(path, async function postAsGet(ctx) {
      const entry = ctx.state.poolProvider as PoolProvider;
      const params = await readFormParameters(ctx, deps.bodyLimitBytes);
      if (!params.has(REPOSTED) && ctx.get('sec-fetch-site') === 'cross-site') {
        // The page speaks the language the relying party asked for, as the next one will.
        ctx.state.uiLocales = params.get('ui_locales') ?? undefined;
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await deps.pages.render('repost', entry.pool, {
          locale: localeOf(ctx),
          action: `/pools/${entry.pool.id}${path}`,
          fields: [...params, [REPOSTED, '1']],
        });
        return;
      }
      params.delete(REPOSTED);
      ctx.method = 'GET';
      ctx.querystring = params.toString();
      try {
        await deps.callProvider(ctx, entry);
      } finally {
        // The log line and metrics name the request as it came.
        ctx.method = 'POST';
      }
    });
  }
}
