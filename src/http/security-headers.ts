/**
 * Security headers on every response; a strict Content-Security-Policy (ADR 0805):
 * scripts and styles only from Tarn's own files (no inline code; oidc-provider adds the
 * hash of its one inline form_post script to this header itself), images from known
 * places, no plugins, no framing, no <base>. Set before the route runs so that addition
 * survives. No form-action: Chrome applies it to the redirect to the relying party that
 * follows a sign-in form, which is any registered redirect URI.
 * HSTS when the request came over TLS (directly or, with TRUST_PROXY, via the proxy).
 */
import type { Context, Next } from 'koa';
import { randomUUID } from 'node:crypto';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
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
  try {
    await next();
  } finally {
    if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', CSP);
    if (ctx.response.is('html')) ctx.set('X-Frame-Options', 'DENY');
  }
}
