/**
 * One structured log line and one metric sample per request: request id, method, route
 * template, pool id, status, duration. The path is logged without its query string:
 * /auth and /token queries carry codes and tokens. Nothing from headers or bodies.
 */
import type { Context } from 'koa';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';

const FIXED_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/assets/tarn.css']);

export interface RouteNaming {
  /** The admin route template of a path under /admin, if any. */
  adminRoute(path: string, method: string): string | undefined;
}

/** The label of a provider route, made once per route name (the hot path labels every token request). */
const oidcLabels = new Map<string, string>();
function oidcLabel(route: string): string {
  let label = oidcLabels.get(route);
  if (label === undefined) {
    label = `/pools/:pool [oidc ${route}]`;
    // (route names come from the provider's own route table: a bounded set)
    oidcLabels.set(route, label);
  }
  return label;
}

/** A bounded label for the request (`path`: its path as it came): a route template, never a raw path with ids in it. */
export function routeOf(ctx: Context, path: string, naming: RouteNaming): string {
  if (path.startsWith('/admin')) return naming.adminRoute(path, ctx.method) ?? '/admin/*';
  if (path.startsWith('/pools/')) {
    // The provider's route name, or the one the gateway answered for it from its cache.
    const fromGateway: unknown = ctx.state.oidcRoute;
    const oidcRoute = (ctx as unknown as { oidc?: { route?: string } }).oidc?.route ?? fromGateway;
    if (typeof oidcRoute === 'string') return oidcLabel(oidcRoute);
    const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
    if (typeof matched === 'string' && matched.startsWith('/')) return `/pools/:pool${matched}`;
    if (path.endsWith('/branding.css')) return '/pools/:pool/branding.css';
    return '/pools/:pool/*';
  }
  return FIXED_ROUTES.has(path) ? path : '*';
}

export function poolIdOf(ctx: Context, path: string): string | undefined {
  const entry = ctx.state.poolProvider as { pool?: { id?: string } } | undefined;
  if (entry?.pool?.id) return entry.pool.id;
  const match = /^\/admin\/pools\/([a-z0-9][a-z0-9-]{1,62})(\/|$)/.exec(path);
  return match?.[1];
}

/** Records one finished request (`path` as it came, started at `started`, from process.hrtime.bigint()). */
export function requestObserver(log: Logger, metrics: Metrics, naming: RouteNaming) {
  return function observeRequest(ctx: Context, path: string, started: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeOf(ctx, path, naming);
    const status = ctx.status;
    metrics.observeRequest(ctx.method, route, status, seconds);
    // Probes and scrapes arrive every few seconds from every balancer: debug, not info.
    const level = status >= 500 ? 'warn' : FIXED_ROUTES.has(route) && route !== '/assets/tarn.css' ? 'debug' : 'info';
    // (the line is built only when its level is on)
    if (!log.isLevelEnabled(level)) return;
    const line = {
      reqId: ctx.state.requestId as string | undefined,
      method: ctx.method,
      path,
      route,
      poolId: poolIdOf(ctx, path),
      status,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      ip: ctx.ip,
    };
    log[level](line, 'request');
  };
}
