/**
 * Security headers. Every response: a request id, nosniff, CORP, and HSTS when the request
 * came over TLS (directly or, with TRUST_PROXY, via the proxy). HTML pages also get a strict
 * Content-Security-Policy (scripts and styles only from our own files, images from known
 * places, no framing), X-Frame-Options, COOP and a Permissions-Policy; HTML and redirects
 * a Referrer-Policy. The CSP is set before the handler runs so that oidc-provider can add
 * the hash of its one inline script (the form_post auto-submit, OAuth 2.0 Form Post
 * Response Mode) to script-src; a handler's policy is kept, any other HTML gets the default.
 * ADR 0805.
 */
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Before the handler: the headers every response gets, and the default policy. */
export function setSecurityHeaders(ctx: Context): void {
  const given = ctx.get('x-request-id');
  const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  ctx.state.requestId = requestId;
  ctx.set('X-Request-Id', requestId);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cross-Origin-Resource-Policy', 'same-site');
  ctx.set('Content-Security-Policy', CSP);
  if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000');
}

/**
 * After the handler: the document policies on HTML (a handler's own CSP is kept), and the
 * referrer policy on redirects too (a redirect's policy governs the request it leads to,
 * and sign-in redirects carry codes). JSON and other resources keep none of them: browsers
 * apply CSP, framing, opener and permissions policies to documents only.
 */
export function finishSecurityHeaders(ctx: Context): void {
  // (a prefix test: type-is would look the type up on every response of the hot path)
  const html = String(ctx.response.get('Content-Type')).startsWith('text/html');
  if (html) {
    if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  } else {
    ctx.remove('Content-Security-Policy');
  }
  if (html || (ctx.status >= 300 && ctx.status < 400)) ctx.set('Referrer-Policy', 'no-referrer');
}
