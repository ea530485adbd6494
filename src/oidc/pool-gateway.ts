/**
 * Everything under /pools/{poolId}: finds the pool's provider (404 problem when there is
 * no such pool), serves the hosted pages and Tarn's own resource routes, and hands the rest
 * to the provider with the pool prefix removed from the path (as koa-mount does).
 * Errors of hosted pages become the branded error page (http/error-page.ts); errors of
 * resource routes and of the gateway itself go on to the request frame's problem answer.
 * Also the pool's metadata at the host root, where RFC 8414 §3 puts it for an issuer with a
 * path: /.well-known/oauth-authorization-server/pools/{poolId} (and the same under
 * openid-configuration, which some clients derive the same way): the same document, from the
 * same cache, as /pools/{poolId}/.well-known/openid-configuration.
 */
import type { Context, Middleware, Next } from 'koa';
import type Router from '@koa/router';
import { mapDatabaseError } from '../db/errors.js';
import type { ErrorPages } from '../http/error-page.js';
import { problems } from '../http/problem.js';
import { answerProviderFault } from '../http/unavailable.js';
import { brandingCss } from '../branding/theme.js';
import { POOL_ID } from '../pools/pools.schemas.js';
import { REVOCATION, REVOKED, tidyPublishedDocument } from './published-metadata.js';
import type { PoolProvider, ProviderRegistry } from './provider-registry.js';

export interface PoolGatewayDeps {
  registry: ProviderRegistry;
  /** Hosted pages that Tarn serves itself (interactions, …), matched before the provider. */
  hosted: Router;
  /** Tarn's own APIs for the signed-in user (resource-routes.ts), matched before the provider. */
  resources: Router;
  errorPages: ErrorPages;
  /** After the provider ended a session (its end_session confirmation): Tarn's own next step, if any. */
  afterSessionEnded?: (ctx: Context) => Promise<void>;
}

const END_SESSION_CONFIRM = '/session/end/confirm';

const noop = async () => {};

/**
 * A cheap first test for "might a hosted route match this path?": the first path segments
 * of the hosted routes, or undefined (always ask the router) when one of them is not a
 * plain word. Most pool requests are protocol endpoints, which then skip route matching.
 */
function hostedFirstSegments(routers: Router[]): Set<string> | undefined {
  const segments = new Set<string>();
  for (const layer of routers.flatMap((router) => router.stack)) {
    const first = typeof layer.path === 'string' ? /^\/([\w.-]+)(?:\/|$)/.exec(layer.path)?.[1] : undefined;
    if (!first) return undefined;
    segments.add(first);
  }
  return segments;
}

const DISCOVERY = '/.well-known/openid-configuration';
const WELL_KNOWN_AT_ROOT = /^\/\.well-known\/(?:oauth-authorization-server|openid-configuration)\/pools\/([^/]+)$/;

/** The pool and path inside it that a request names: /pools/{id}/…, or a metadata document at the root. */
function poolPathOf(path: string): [poolId: string, rest: string] | undefined {
  const match = /^\/pools\/([^/]+)(\/.*)?$/.exec(path);
  // RFC 8414 §3 also allows the appended form for an issuer with a path.
  if (match) return [match[1]!, match[2] === '/.well-known/oauth-authorization-server' ? DISCOVERY : (match[2] ?? '/')];
  const atRoot = path.startsWith('/.well-known/') ? WELL_KNOWN_AT_ROOT.exec(path) : null;
  return atRoot ? [atRoot[1]!, DISCOVERY] : undefined;
}

function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}

export function poolGateway({ registry, hosted, resources, errorPages, afterSessionEnded }: PoolGatewayDeps): Middleware {
  const hostedRoutes = hosted.routes();
  const resourceRoutes = resources.routes();
  const ownSegments = hostedFirstSegments([hosted, resources]);

  /** After the pool is known: its own small answers, the hosted pages, or its provider. */
  function routeInPool(ctx: Context, entry: PoolProvider, poolId: string, rest: string): Promise<void> | undefined {
    ctx.state.poolProvider = entry;

    if (rest === '/branding.css') {
      ctx.type = 'text/css';
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = brandingCss(entry.pool);
      return undefined;
    }

    const { metadata } = entry;
    const cacheable = metadata.cacheable(ctx, rest);
    if (cacheable && metadata.answer(ctx, rest)) return undefined;

    const own = !ownSegments || ownSegments.has(firstSegment(rest));
    // oidc-provider builds its endpoint URLs from ctx.mountPath, as under koa-mount (hosted
    // routes may hand a request on to the provider, post-to-get.ts).
    ctx.mountPath = `/pools/${poolId}`;
    if (own && hosted.match(rest, ctx.method).route) {
      return inPool(ctx, rest, async () => {
        try {
          await hostedRoutes(ctx as never, noop);
        } catch (error) {
          await errorPages.answer(ctx, error);
        }
      });
    }
    if (own && resources.match(rest, ctx.method).route) return inPool(ctx, rest, () => resourceRoutes(ctx as never, noop) as Promise<void>);
    if (cacheable) return inPool(ctx, rest, () => metadata.fill(ctx, rest, () => callProvider(ctx, entry, rest)));
    if (afterSessionEnded && rest === END_SESSION_CONFIRM) return inPool(ctx, rest, () => callProvider(ctx, entry, rest).then(() => afterSessionEnded(ctx)));
    return inPool(ctx, rest, () => callProvider(ctx, entry, rest));
  }

  /** Runs `work` with the pool prefix removed from the request path (query string kept), and puts the URL back after. */
  function inPool(ctx: Context, rest: string, work: () => Promise<void>): Promise<void> {
    const url = ctx.url;
    const query = url.indexOf('?');
    ctx.url = query === -1 ? rest : rest + url.slice(query);
    const leave = () => {
      ctx.url = url;
    };
    let working: Promise<void>;
    try {
      working = work();
    } catch (error) {
      leave();
      throw error;
    }
    return working.then(leave, (error: unknown) => {
      leave();
      throw error;
    });
  }

  async function findPool(ctx: Context, poolId: string): Promise<PoolProvider | undefined | 'answered'> {
    try {
      return POOL_ID.test(poolId) ? await registry.get(poolId) : undefined;
    } catch (error) {
      // A person's browser gets a page (the pool's branding is out of reach too); an API client a problem.
      if (ctx.accepts('json', 'html') !== 'html' || !mapDatabaseError(error)) throw error;
      await errorPages.answer(ctx, error);
      return 'answered';
    }
  }

  // Not an async function: a pool whose provider is at hand (nearly every request) is routed
  // without a promise of the gateway's own (ADR 0708; see request-frame.ts).
  return function poolRoutes(ctx: Context, next: Next): Promise<void> | undefined {
    const inPoolPath = poolPathOf(ctx.path);
    if (!inPoolPath) return next();
    const [poolId, rest] = inPoolPath;
    const cached = registry.peek(poolId);
    if (cached) return routeInPool(ctx, cached, poolId, rest);
    return findPool(ctx, poolId).then((entry) => {
      if (entry === 'answered') return undefined;
      if (!entry) {
        // A person's browser gets a page in its language; an API client the problem (its detail names the pool).
        if (ctx.accepts('json', 'html') === 'html') return errorPages.render(ctx, 404, 'unknownPool');
        throw problems.notFound('Pool', `There is no pool "${poolId}".`);
      }
      return routeInPool(ctx, entry, poolId, rest);
    });
  };
}

/** The pool's provider answers (a fault of its own becomes a problem answer, unavailable.ts). */
export function callProvider(ctx: Context, entry: PoolProvider, rest = ''): Promise<void> {
  return (entry.handle(ctx, noop) as Promise<void>).then(() => {
    answerProviderFault(ctx);
    // Published keys carry `use` only, and revocation answers a JSON body (published-metadata.ts).
    if (ctx.status === 200 && (rest === '/jwks' || rest === DISCOVERY)) ctx.body = tidyPublishedDocument(rest, ctx.body);
    else if (ctx.status === 200 && rest === REVOCATION && ctx.body === '') ctx.body = REVOKED;
  });
}
