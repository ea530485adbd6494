/**
 * What the pool gateway leaves on ctx.state for the pool's own routes (/me, /me/passkeys):
 * read through one typed accessor rather than a cast in every route.
 */
import type { Context } from 'koa';
import type { PoolProvider } from '../oidc/provider-registry.js';

/** The pool of a request under /pools/{poolId}: the gateway sets it before any hosted route runs. */
export function poolProviderOf(ctx: Context): PoolProvider {
  const entry: PoolProvider | undefined = ctx.state.poolProvider;
  if (!entry) throw new Error('A pool route ran outside the pool gateway.');
  return entry;
}
