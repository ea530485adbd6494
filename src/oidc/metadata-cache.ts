/**
 * Discovery and JWKS answers remembered per provider (ADR 0702). Both documents
 * depend only on the provider's configuration and keystore, which never change for the
 * life of a registry entry (a changed pool or key builds a new entry, and with it a new
 * cache), and on the origin the request was addressed to (oidc-provider builds endpoint
 * URLs from it). The first request of an origin runs the provider; later ones get its
 * answer back without the provider's routing, context and JSON serialisation.
 *
 * Only plain GETs are answered from here: a CORS request (Origin header) or anything with a
 * query string goes to the provider, whose CORS handling and errors stay authoritative.
 * Origins come from the Host header, which anyone can set: a few per entry at most.
 */
import type { Context } from 'koa';

const DOCUMENTS = new Map([
  ['/.well-known/openid-configuration', 'discovery'],
  ['/jwks', 'jwks'],
]);

/** Origins remembered per provider: the public URL and a few internal names. */
const MAX_ORIGINS = 4;

interface Remembered {
  type: string;
  body: string;
  headers: [string, string][];
}

export interface MetadataCache {
  /** Answers the request from memory; false when the provider must run. */
  answer(ctx: Context, path: string): boolean;
  /** Runs the provider (`run`) and remembers a cacheable answer. */
  fill(ctx: Context, path: string, run: () => Promise<void>): Promise<void>;
  /** Is this a request this cache could answer? */
  cacheable(ctx: Context, path: string): boolean;
}

export function createMetadataCache(): MetadataCache {
  const documents = new Map<string, Remembered>();

  const keyOf = (ctx: Context, path: string) => `${ctx.protocol}://${ctx.host}${path}`;

  return {
    cacheable(ctx, path) {
      return ctx.method === 'GET' && DOCUMENTS.has(path) && ctx.querystring === '' && !ctx.get('Origin');
    },

    answer(ctx, path) {
      const remembered = documents.get(keyOf(ctx, path));
      if (!remembered) return false;
      for (const [name, value] of remembered.headers) ctx.set(name, value);
      ctx.status = 200;
      ctx.type = remembered.type;
      ctx.body = remembered.body;
      // The route label the request log and metrics would have had from the provider.
      ctx.state.oidcRoute = DOCUMENTS.get(path);
      return true;
    },

    async fill(ctx, path, run) {
      const before = new Set(Object.keys(ctx.response.headers));
      await run();
      const key = keyOf(ctx, path);
      if (ctx.status !== 200 || documents.size >= MAX_ORIGINS * DOCUMENTS.size || documents.has(key)) return;
      const body =
        typeof ctx.body === 'string' ? ctx.body : ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body) ? JSON.stringify(ctx.body) : undefined;
      if (body === undefined) return;
      // The headers the provider added (CORS defaults, Vary …), not the ones set around it.
      const headers = Object.entries(ctx.response.headers)
        .filter(([name]) => !before.has(name) && name !== 'content-type' && name !== 'content-length')
        .map(([name, value]) => [name, String(value)] as [string, string]);
      documents.set(key, { type: ctx.response.get('Content-Type'), body, headers });
    },
  };
}
