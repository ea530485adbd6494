/**
 * Security headers on every response; a strict Content-Security-Policy on HTML pages
 * (scripts and styles only from our own files, images from known places, no framing).
 * The policy is set before the handler runs so that oidc-provider can add the hash of
 * its one inline script (the form_post auto-submit, OAuth 2.0 Form Post Response Mode)
 * to script-src; a handler's policy is kept, any other HTML gets the default.
 * Also COOP, CORP, a Permissions-Policy, and HSTS when the request came over TLS (directly
 * or, with TRUST_PROXY, via the proxy). ADR 0805.
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

/** Before the handler: the headers every response gets, and the default policy. */
export function setSecurityHeaders(ctx: Context): void {
  const requestId = /^[\w.-]{1,64}$/.test(ctx.get('x-request-id')) ? ctx.get('x-request-id') : randomUUID();
  ctx.state.requestId = requestId;
  ctx.set('X-Request-Id', requestId);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-site');
  ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000');
}

/** After the handler: the policy stays on HTML only (a handler's own is kept), framing is denied. */
export function finishSecurityHeaders(ctx: Context): void {
  // (a prefix test: type-is would look the type up on every response of the hot path)
  if (!String(ctx.response.get('Content-Type')).startsWith('text/html')) ctx.remove('Content-Security-Policy');
  else {
    if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Frame-Options', 'DENY');
  }
}
