/**
 * POST at the authorization and end-session endpoints (OIDC Core §3.1.2.1, RP-Initiated
 * Logout §2: the OP MUST support GET and POST).
 * oidc-provider only serves POST there when its cookies are SameSite=None (a cross-site
 * POST carries no Lax cookie, so the session would be invisible); Tarn keeps Lax cookies
 * and answers the POST with a 303 to the same endpoint as a GET with the same parameters,
 * a top-level navigation that does carry them. Duplicated parameters are kept as sent,
 * so the provider still refuses them (OIDC Core §3.1.2.2). The parameters must fit in the
 * URL of that GET (`limit`, below the server's header limit): a larger form is a 413 here,
 * not a Location header the browser cannot read or a GET the server would refuse.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { problems } from '../http/problem.js';

async function readUrlencoded(ctx: Context, limit: number): Promise<string> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw problems.unsupportedMediaType('application/x-www-form-urlencoded');
  // Refused before reading: a body abandoned half-read leaves no connection to answer on.
  if (Number(ctx.get('content-length') || 0) > limit) throw problems.payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw problems.payloadTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function registerPostToGetRoutes(router: Router, limit: number): void {
  for (const path of ['/auth', '/session/end']) {
    router.post(path, async function postAsGet(ctx) {
      const query = new URLSearchParams(await readUrlencoded(ctx, limit)).toString();
      if (query.length > limit) throw problems.payloadTooLarge(limit);
      const poolId = /^\/pools\/([^/]+)/.exec(ctx.originalUrl)?.[1];
      ctx.status = 303;
      ctx.redirect(`/pools/${poolId}${path}?${query}`);
    });
  }
}
