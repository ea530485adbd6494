/**
 * Security headers on every response; a strict Content-Security-Policy on HTML pages
 * (no inline scripts, only Tarn's own script files, styles and images from known places, no framing).
 */
import type { Context, Next } from 'koa';
import { randomUUID } from 'node:crypto';

const CSP = [
  "default-src 'none'",
  // Only Tarn's own script files (the passkey pages' WebAuthn calls); never inline script.
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
  try {
    await next();
  } finally {
    if (ctx.response.is('html')) {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('X-Frame-Options', 'DENY');
    }
  }
}
