/**
 * The console's session: the administrator's tokens in a signed, HTTP-only cookie scoped to
 * /console (nothing kept on the server), and the CSRF token of its forms, an HMAC of the
 * access token (another site can neither read the cookie nor compute the token).
 */
import type { Context } from 'koa';
import { hmac, safeEqual } from '../crypto/secrets.js';

export const SESSION_COOKIE = 'tarn_console';
export const SIGN_IN_COOKIE = 'tarn_console_signin';

export interface ConsoleSession {
  accessToken: string;
  idToken: string;
  /** Seconds since the epoch when the access token expires. */
  expiresAt: number;
}

export interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
}

function cookieOptions(ctx: Context, maxAge?: number) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/console', signed: true, secure: ctx.secure, overwrite: true, ...(maxAge ? { maxAge } : {}) };
}

function readJson<T>(ctx: Context, name: string): T | undefined {
  const value = ctx.cookies.get(name, { signed: true });
  if (!value) return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJson(ctx: Context, name: string, value: unknown, maxAge: number): void {
  ctx.cookies.set(name, Buffer.from(JSON.stringify(value)).toString('base64url'), cookieOptions(ctx, maxAge));
}

export const consoleCookies = {
  session: (ctx: Context) => readJson<ConsoleSession>(ctx, SESSION_COOKIE),
  setSession: (ctx: Context, session: ConsoleSession) => writeJson(ctx, SESSION_COOKIE, session, Math.max(1, session.expiresAt * 1000 - Date.now())),
  clearSession: (ctx: Context) => ctx.cookies.set(SESSION_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 }),
  pending: (ctx: Context) => readJson<PendingSignIn>(ctx, SIGN_IN_COOKIE),
  setPending: (ctx: Context, pending: PendingSignIn) => writeJson(ctx, SIGN_IN_COOKIE, pending, 10 * 60 * 1000),
  clearPending: (ctx: Context) => ctx.cookies.set(SIGN_IN_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 }),
};

export function consoleCsrf(key: Buffer, session: ConsoleSession): string {
  return hmac(key, `console-csrf:${session.accessToken}`);
}

export function consoleCsrfValid(key: Buffer, session: ConsoleSession, token: unknown): boolean {
  return typeof token === 'string' && token.length > 0 && safeEqual(token, consoleCsrf(key, session));
}
