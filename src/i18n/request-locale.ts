/**
 * The language of a hosted page's answer (negotiate.ts for the order). Routes that know more
 * than the request put it on ctx.state: `uiLocales` (the interaction's parameter, loadDetails)
 * and `userLocale` (the signed-in user's locale claim). A page outside a sign-in (a password
 * reset, say) takes `ui_locales` from its address, where the page that linked to it put its own
 * language.
 */
import type { Context } from 'koa';
import type { Locale } from './catalogues.js';
import { chooseLocale } from './negotiate.js';

interface PoolWithDefault {
  default_locale?: string | null;
}

export function localeOf(ctx: Context, pool?: PoolWithDefault): Locale {
  const state = (ctx.state ?? {}) as { uiLocales?: unknown; userLocale?: unknown; poolProvider?: { pool?: PoolWithDefault } };
  const oidcParams = (ctx as { oidc?: { params?: { ui_locales?: unknown } } }).oidc?.params;
  return chooseLocale({
    uiLocales: state.uiLocales ?? oidcParams?.ui_locales ?? ctx.query?.ui_locales,
    userLocale: state.userLocale,
    acceptLanguage: ctx.get('accept-language'),
    poolDefault: (pool ?? state.poolProvider?.pool)?.default_locale,
  });
}
