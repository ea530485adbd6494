/**
 * What earlier middleware leaves on a request (ctx.state, the router's ctx.params), read through
 * typed accessors rather than a cast in every route. Koa types both as `any`.
 */
import type { Context } from 'koa';
import type { PoolProvider } from '../oidc/provider-registry.js';

/** Koa's `next`, typed: what follows a middleware resolves to nothing a middleware may pass on. */
export type Next = () => Promise<void>;

/** The pool of a request under /pools/{poolId}: the gateway sets it before any hosted route runs. */
export function poolProviderOf(ctx: { state: { poolProvider?: PoolProvider } }): PoolProvider {
  const entry = ctx.state.poolProvider;
  if (!entry) throw new Error('A pool route ran outside the pool gateway.');
  return entry;
}

/** The request's id (security-headers.ts sets it first on every request). */
export function requestIdOf(ctx: Context): string | undefined {
  const id: unknown = ctx.state.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** A parameter of the matched route by name (`:uid` → "uid"); the route declares it, so a missing one is a mistake in the code. */
export function routeParam(ctx: Context, name: string): string {
  const params: unknown = ctx.params;
  const value: unknown = typeof params === 'object' && params !== null ? Reflect.get(params, name) : undefined;
  if (typeof value !== 'string') throw new Error(`The route has no :${name} parameter.`);
  return value;
}
