/**
 * The pool router resolves `:pool` once for every route under /admin/pools/{pool}: it
 * authorizes the caller for that pool and loads it, or answers 404. Routes find the pool
 * on ctx.state.pool and never see the raw path parameter, so a route added under the
 * pool router cannot act on a pool its caller may not reach.
 * A pool secret names one pool; any other pool is "not found" to it, never "forbidden";
 * so is a pool an administrator has no role on (console/administrators.ts).
 */
import type { RouterContext } from '@koa/router';
import type { Next } from 'koa';
import type { PoolRow } from '../db/tables.js';
import { routesFor } from '../http/guard.js';
import { problems } from '../http/problem.js';
import type { AdminState } from './admin-auth.js';
import { roleOn } from '../console/administrators.js';

/** State of a request under /admin/pools/{pool}: the caller, and the pool it acts on. */
export interface PoolState extends AdminState {
  pool: PoolRow;
}

/** Declares a route under /admin/pools/{pool} (its path is relative to that). */
export const poolRoute = routesFor<PoolState>();
/** Declares a route under /admin that is not about one pool. */
export const adminRoute = routesFor<AdminState>();

/** `getPool` answers the pool or throws its 404 (the pool service's getPoolRow). */
export function resolvePool(getPool: (poolId: string) => Promise<PoolRow>) {
  return async function resolvePoolParam(poolId: string, ctx: RouterContext<PoolState>, next: Next): Promise<void> {
    const { principal } = ctx.state;
    if (principal.kind === 'pool' && principal.poolId !== poolId) throw problems.notFound('Pool');
    // An administrator sees only the pools a role gives them; any other is "not found" too.
    if (principal.kind === 'administrator' && !roleOn(principal, poolId)) throw problems.notFound('Pool');
    ctx.state.pool = await getPool(poolId);
    await next();
  };
}
