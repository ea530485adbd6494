/**
 * The account page's own cookies (docs/adr/0306), both sealed with the master key's envelope,
 * bound to the pool, and scoped to `/pools/{pool}/account`:
 * - `_tarn_account`: who signed in to the page (subject, the provider session's `sid`, when they
 *   authenticated, a CSRF nonce), for at most an hour; httpOnly, SameSite=Strict.
 * - `_tarn_account_login`: the authorization request in flight (state, nonce, PKCE verifier,
 *   where to go after), for ten minutes; SameSite=Lax, because the provider's redirect back to
 *   the callback may follow a navigation that started on another site (a link in a mail).
 * A cookie that does not open (another pool's, tampered, another master key) is no cookie.
 */
import type { Context } from 'koa';
import type { Envelope } from '../crypto/envelope.js';

export const ACCOUNT_COOKIE = '_tarn_account';
export const LOGIN_COOKIE = '_tarn_account_login';
export const ACCOUNT_COOKIE_TTL_MS = 60 * 60 * 1000;
export const LOGIN_COOKIE_TTL_MS = 10 * 60 * 1000;

export interface AccountCookie {
  sub: string;
  sid: string;
  /** When the user last authenticated (seconds, the ID token's auth_time). */
  authTime: number;
  /** Until when the cookie is good (milliseconds). */
  exp: number;
  /** Bound into the forms' CSRF tokens. */
  nonce: string;
}

export interface LoginState {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  fresh: boolean;
  exp: number;
}

export const accountPath = (poolId: string) => `/pools/${poolId}/account`;

export function createAccountCookies(envelope: Envelope, clock: () => Date) {
  const context = (name: string, poolId: string) => `${name}:${poolId}`;

  function read<T extends { exp: number }>(ctx: Context, name: string, poolId: string): T | undefined {
    const raw = ctx.cookies.get(name);
    if (!raw) return undefined;
    try {
      const value = JSON.parse(envelope.open(raw, context(name, poolId))) as T;
      return typeof value.exp === 'number' && value.exp > clock().getTime() ? value : undefined;
    } catch {
      return undefined;
    }
  }

  function write(ctx: Context, name: string, poolId: string, value: { exp: number }, sameSite: 'strict' | 'lax'): void {
    ctx.cookies.set(name, envelope.seal(JSON.stringify(value), context(name, poolId)), {
      path: accountPath(poolId),
      httpOnly: true,
      sameSite,
      secure: ctx.secure,
      signed: false,
      overwrite: true,
      expires: new Date(value.exp),
    });
  }

  function clear(ctx: Context, name: string, poolId: string): void {
    ctx.cookies.set(name, '', { path: accountPath(poolId), httpOnly: true, maxAge: 0, overwrite: true });
  }

  return {
    readAccount: (ctx: Context, poolId: string) => read<AccountCookie>(ctx, ACCOUNT_COOKIE, poolId),
    writeAccount: (ctx: Context, poolId: string, value: Omit<AccountCookie, 'exp'>, exp = clock().getTime() + ACCOUNT_COOKIE_TTL_MS) =>
      write(ctx, ACCOUNT_COOKIE, poolId, { ...value, exp }, 'strict'),
    clearAccount: (ctx: Context, poolId: string) => clear(ctx, ACCOUNT_COOKIE, poolId),
    readLogin: (ctx: Context, poolId: string) => read<LoginState>(ctx, LOGIN_COOKIE, poolId),
    writeLogin: (ctx: Context, poolId: string, value: Omit<LoginState, 'exp'>) =>
      write(ctx, LOGIN_COOKIE, poolId, { ...value, exp: clock().getTime() + LOGIN_COOKIE_TTL_MS }, 'lax'),
    clearLogin: (ctx: Context, poolId: string) => clear(ctx, LOGIN_COOKIE, poolId),
  };
}

export type AccountCookies = ReturnType<typeof createAccountCookies>;
