/**
 * Security headers. Every response: a request id, nosniff, CORP, and HSTS when the request
 * came over TLS (directly or, with TRUST_PROXY, via the proxy). HTML pages also get a strict
 * Content-Security-Policy (scripts and styles only from our own files, images from known
 * places, no framing), X-Frame-Options, COOP and a Permissions-Policy; HTML and redirects
 * a Referrer-Policy. On the authorization and end-session endpoints the CSP is set before the
 * handler runs, so that oidc-provider can add the hash of its one inline script (the form_post auto-submit,
 * OAuth 2.0 Form Post Response Mode; web_message likewise) to script-src; a handler's policy
 * is kept, any other HTML gets the default when it is finished. ADR 0805.
 */
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';

const CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' https: data:", "base-uri 'none'", "frame-ancestors 'none'"].join(
  '; ',
);

const REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * Where oidc-provider answers with its response modes' pages (form_post, web_message): the
 * authorization endpoint and its resumption after an interaction, and the end-session
 * endpoint, which sends a browser without a session on to its confirmation with the same
 * self-submitting form. Only there must the policy exist before the handler; elsewhere
 * setting it early only to remove it from a JSON answer costs every API request a header
 * set and a delete (ADR 0705).
 */
const AUTHORIZATION = /^\/pools\/[^/]+\/(auth|session\/end)(\/|$)/;

/**
 * Before the handler: the request id (the log, the audit trail and the response carry it),
 * and on the authorization endpoint the default policy. `path` is the request's path.
 */
export function startSecurityHeaders(ctx: Context, path: string): void {
  const given = ctx.req.headers['x-request-id'];
  ctx.state.requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  if (AUTHORIZATION.test(path)) ctx.res.setHeader('Content-Security-Policy', CSP);
}

/**
 * After the handler: the headers every response gets; the document policies on HTML (a
 * handler's own CSP is kept), and the referrer policy on redirects too (a redirect's policy
 * governs the request it leads to, and sign-in redirects carry codes). JSON and other
 * resources keep none of the document policies: browsers apply CSP, framing, opener and
 * permissions policies to documents only.
 * (Set here rather than before the handler: nothing writes the response before the frame
 * finishes, and oidc-provider copies every response header set so far on each protocol
 * request (its CORS check, `Object.keys(ctx.response.headers)`), ADR 0708. Written on the
 * Node response: Koa's ctx.set/ctx.get add a delegation and a check per call, and
 * ctx.response.get copies all headers to read one.)
 */
export function finishSecurityHeaders(ctx: Context): void {
  const res = ctx.res;
  if (res.headersSent) return;
  res.setHeader('X-Request-Id', ctx.state.requestId as string);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (!res.hasHeader('Cross-Origin-Resource-Policy')) res.setHeader('Cross-Origin-Resource-Policy', 'same-site');
  if (ctx.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
  // (a prefix test, not type-is, which would parse the type)
  const type = res.getHeader('Content-Type');
  const html = typeof type === 'string' && type.startsWith('text/html');
  if (html) {
    if (!res.hasHeader('Content-Security-Policy')) res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  } else if (res.hasHeader('Content-Security-Policy') && !(typeof type === 'string' && type.startsWith('image/svg+xml'))) {
    // (An SVG keeps its own policy: opened directly, it is a document; branding/brand-assets.routes.ts.)
    res.removeHeader('Content-Security-Policy');
  }
  const status = res.statusCode;
  if (html || (status >= 300 && status < 400)) res.setHeader('Referrer-Policy', 'no-referrer');
}
