/**
 * Everything under /pools/{poolId}: finds the pool's provider (404 problem when there is
 * no such pool), serves the hosted pages, and hands the rest to the provider with the
 * pool prefix removed from the path (as koa-mount does).
 * Also the pool's metadata at the host root, where RFC 8414 §3 puts it for an issuer with a
 * path: /.well-known/oauth-authorization-server/pools/{poolId} (and the same under
 * openid-configuration, which some clients derive the same way): the same document, from the
 * same cache, as /pools/{poolId}/.well-known/openid-configuration.
 */
import type { Context, Middleware, Next } from 'koa';
import type Router from '@koa/router';
import type { Logger } from '../log.js';
import { mapDatabaseError } from '../db/errors.js';
import { problems } from '../http/problem.js';
import { answerProviderFault } from '../http/unavailable.js';
import { POOL_ID } from '../pools/pools.schemas.js';
import type { PageRenderer } from '../views/render.js';
import { HostedPageError } from './interactions/interactions.routes.js';
import { REVOCATION, REVOKED, tidyPublishedDocument } from './published-metadata.js';
import type { PoolProvider, ProviderRegistry } from './provider-registry.js';

export interface PoolGatewayDeps {
  registry: ProviderRegistry;
  /** Hosted pages and pool APIs that Tarn serves itself (interactions, …), matched before the provider. */
  hosted: Router;
  pages: PageRenderer;
  log: Logger;
}

const noop = async () => {};

/**
 * A cheap first test for "might a hosted route match this path?": the first path segments
 * of the hosted routes, or undefined (always ask the router) when one of them is not a
 * plain word. Most pool requests are protocol endpoints, which then skip route matching.
 */
function hostedFirstSegments(hosted: Router): Set<string> | undefined {
  const segments = new Set<string>();
  for (const layer of hosted.stack) {
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

export function poolGateway({ registry, hosted, pages, log }: PoolGatewayDeps): Middleware {
  const hostedRoutes = hosted.routes();
  const hostedSegments = hostedFirstSegments(hosted);

  async function renderHostedError(ctx: Context, error: unknown): Promise<void> {
    const entry = ctx.state.poolProvider;
    const known = error instanceof HostedPageError ? error : undefined;
    // The database away → 503 (try again); text it cannot store → 400 (ADR 0800).
    const fault = known ? undefined : mapDatabaseError(error);
    const status = known?.status ?? fault?.status ?? ((error as { status?: number }).status && (error as { status: number }).status < 500 ? (error as { status: number }).status : 500);
    if (!known && !fault && status >= 500) log.error({ err: error, path: ctx.path }, 'hosted page failed');
    if (status === 503) ctx.set('Retry-After', '2');
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await pages.render('error', entry?.pool, {
      title: known?.title ?? (status === 413 ? 'Too much data' : status === 503 ? 'Temporarily unavailable' : status < 500 ? 'Request refused' : 'Something went wrong'),
      message: known?.userMessage ?? fault?.detail ?? (status < 500 ? (error as Error).message : 'Something went wrong on our side. Please try again.'),
    });
  }

  /** After the pool is known: its own small answers, the hosted pages, or its provider. */
  function routeInPool(ctx: Context, entry: PoolProvider, poolId: string, rest: string): Promise<void> | undefined {
    ctx.state.poolProvider = entry;

    if (rest === '/branding.css') {
      ctx.type = 'text/css';
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = entry.pool.tag_color ? `:root { --accent: ${entry.pool.tag_color}; }\n` : '';
      return undefined;
    }

    const { metadata } = entry;
    const cacheable = metadata.cacheable(ctx, rest);
    if (cacheable && metadata.answer(ctx, rest)) return undefined;

    const hostedPage = (!hostedSegments || hostedSegments.has(firstSegment(rest))) && hosted.match(rest, ctx.method).route;
    if (hostedPage) {
      return inPool(ctx, rest, async () => {
        try {
          await hostedRoutes(ctx as never, noop);
        } catch (error) {
          await renderHostedError(ctx, error);
        }
      });
    }
    // oidc-provider builds its endpoint URLs from ctx.mountPath, as under koa-mount.
    ctx.mountPath = `/pools/${poolId}`;
    if (cacheable) return inPool(ctx, rest, () => metadata.fill(ctx, rest, () => callProvider(ctx, entry, rest)));
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
      await renderHostedError(ctx, error);
      return 'answered';
    }
  }

  // Not an async function: a pool whose provider is at hand (nearly every request) is routed
  // without a promise of the gateway's own (issue 7; see request-frame.ts).
  return function poolRoutes(ctx: Context, next: Next): Promise<void> | undefined {
    const inPoolPath = poolPathOf(ctx.path);
    if (!inPoolPath) return next();
    const [poolId, rest] = inPoolPath;
    const cached = registry.peek(poolId);
    if (cached) return routeInPool(ctx, cached, poolId, rest);
    return findPool(ctx, poolId).then((entry) => {
      if (entry === 'answered') return undefined;
      if (!entry) throw problems.notFound('Pool', `There is no pool "${poolId}".`);
      return routeInPool(ctx, entry, poolId, rest);
    });
  };
}

/** The pool's provider answers (a fault of its own becomes a problem answer, unavailable.ts). */
function callProvider(ctx: Context, entry: PoolProvider, rest: string): Promise<void> {
  return (entry.handle(ctx, noop) as Promise<void>).then(() => {
    answerProviderFault(ctx);
    if (ctx.status === 200 && (rest === '/jwks' || rest === DISCOVERY)) ctx.body = tidyPublishedDocument(rest, ctx.body);
    else if (ctx.status === 200 && rest === REVOCATION && ctx.body === '') ctx.body = REVOKED;
  });
}
