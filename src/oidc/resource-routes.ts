/**
 * Tarn's own resource routes under a pool (/me, /me/passkeys, and every later API of the
 * signed-in user): one router whose every route is guarded by the same access-token check.
 * A route cannot be added here without it; a route that must not need a token belongs on
 * the hosted-pages router instead.
 *
 * The check, in order (errors are RFC 9457 problem documents carrying the RFC 6750 §3
 * challenge in WWW-Authenticate; the request frame answers them, see http/errors.ts):
 * - `Authorization: Bearer <token>` (RFC 6750 §2.1) or `Authorization: DPoP <token>` with a
 *   `DPoP` proof (RFC 9449 §7.1); nothing else, never a query parameter;
 * - the token is an access token of this pool's provider, unexpired, issued to a user;
 * - sender constraint: a DPoP-bound token (cnf.jkt) is accepted only with the DPoP scheme
 *   and a valid proof made with its key, for this method and URL, never replayed
 *   (RFC 9449 §4.3, §7.2); a token without a binding is not accepted under the DPoP scheme
 *   (as oidc-provider's userinfo does); certificate-bound tokens are refused (no mTLS here);
 * - audience: the token is for the pool itself, not for a resource server (RFC 8707), as at
 *   the userinfo endpoint;
 * - scope: every scope the route names (default `openid`), else 403 insufficient_scope;
 * - the account is still active in this pool.
 * Answers are never cached (Cache-Control: no-store).
 */
import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import type { Context } from 'koa';
import type { AccessToken } from 'oidc-provider';
import type { PoolRow } from '../db/tables.js';
import { AppError, problems } from '../http/problem.js';
import type { UserService } from '../users/users.service.js';
import type { PoolProvider } from './provider-registry.js';

/** Proof algorithms accepted here: those the provider accepts at its own endpoints (provider-config.ts). */
export const DPOP_SIGNING_ALGS = ['ES256', 'Ed25519', 'EdDSA'];
/** How far a proof's `iat` may be from now (RFC 9449 §11.1), as oidc-provider allows at its endpoints. */
const PROOF_WINDOW_SECONDS = 300;
const CREDENTIALS = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Who called, once the token has passed the check. */
export interface Caller {
  pool: PoolRow;
  userId: string;
  clientId: string;
  scopes: ReadonlySet<string>;
}

export type ResourceHandler = (ctx: Context, caller: Caller) => Promise<void>;

export interface AccessRule {
  /** Scopes the token must carry; default ["openid"]. */
  scopes?: readonly string[];
  /** Whether the pool offers this API at all; when not, 404 before any token is asked for. */
  offered?: (pool: PoolRow) => boolean;
}

type Scheme = 'Bearer' | 'DPoP';

function challenge(scheme: Scheme | undefined, error?: { code: string; description: string; scope?: string }): string {
  const dpop = `DPoP algs="${DPOP_SIGNING_ALGS.join(' ')}"`;
  if (!scheme || !error) return `Bearer, ${dpop}`;
  const params = [`error="${error.code}"`, `error_description="${error.description}"`, ...(error.scope ? [`scope="${error.scope}"`] : [])];
  return scheme === 'DPoP' ? `${dpop}, ${params.join(', ')}` : `Bearer ${params.join(', ')}`;
}

const tokenRequired = () =>
  new AppError({
    status: 401,
    type: 'unauthorized',
    title: 'Unauthorized',
    detail: 'Send an access token as "Authorization: Bearer …" or "Authorization: DPoP …".',
    headers: { 'WWW-Authenticate': challenge(undefined) },
  });

const malformed = (scheme: Scheme | undefined, description: string) =>
  new AppError({
    status: 400,
    type: 'invalid-request',
    title: 'Invalid request',
    detail: description,
    headers: { 'WWW-Authenticate': challenge(scheme ?? 'Bearer', { code: 'invalid_request', description }) },
  });

const invalidToken = (scheme: Scheme, description: string) =>
  new AppError({
    status: 401,
    type: 'invalid-token',
    title: 'Invalid token',
    detail: description,
    headers: { 'WWW-Authenticate': challenge(scheme, { code: 'invalid_token', description }) },
  });

// RFC 9449 §7.1: a proof that is missing or fails a check of §4.3.
const invalidProof = (description: string) =>
  new AppError({
    status: 401,
    type: 'invalid-dpop-proof',
    title: 'Invalid DPoP proof',
    detail: description,
    headers: { 'WWW-Authenticate': challenge('DPoP', { code: 'invalid_dpop_proof', description }) },
  });

const insufficientScope = (scheme: Scheme, scopes: readonly string[]) => {
  const description = `The access token needs the scope ${scopes.join(' ')}.`;
  return new AppError({
    status: 403,
    type: 'insufficient-scope',
    title: 'Insufficient scope',
    detail: description,
    headers: { 'WWW-Authenticate': challenge(scheme, { code: 'insufficient_scope', description, scope: scopes.join(' ') }) },
  });
};

function credentialsOf(ctx: Context): { scheme: Scheme; value: string } {
  const header = ctx.get('authorization');
  if (!header) throw tokenRequired();
  const match = CREDENTIALS.exec(header);
  if (!match) {
    if (/^(bearer|dpop)(\s|$)/i.test(header))
      throw malformed(/^dpop/i.test(header) ? 'DPoP' : 'Bearer', 'The Authorization header does not hold one access token.');
    throw tokenRequired();
  }
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', value: match[2]! };
}

/** RFC 9449 §4.3: the proof of possession of the key the token is bound to, for this request. */
async function checkProof(ctx: Context, entry: PoolProvider, token: AccessToken, value: string): Promise<void> {
  const proof = ctx.get('dpop');
  if (!proof) throw invalidProof('A DPoP proof is required with this access token.');
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_SIGNING_ALGS });
  } catch {
    throw invalidProof('The DPoP proof is not a valid signed proof.');
  }
  const { payload, protectedHeader } = verified;
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.jti !== 'string' || payload.jti === '') throw invalidProof('The DPoP proof has no jti.');
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > PROOF_WINDOW_SECONDS) throw invalidProof('The DPoP proof is not recent.');
  // Tarn never sends DPoP-Nonce (RFC 9449 §8), so a proof with a nonce is not one made for it.
  if (payload.nonce !== undefined) throw invalidProof('DPoP nonces are not used here.');
  if (payload.htm !== ctx.method) throw invalidProof('The DPoP proof was made for another method.');
  if (!sameTarget(payload.htu, `${entry.provider.issuer}${ctx.path}`)) throw invalidProof('The DPoP proof was made for another URL.');
  if (payload.ath !== createHash('sha256').update(value).digest('base64url')) throw invalidProof('The DPoP proof was made for another access token.');
  if ((await calculateJwkThumbprint(protectedHeader.jwk as JWK)) !== token.jkt)
    throw invalidToken('DPoP', 'The DPoP proof is not made with the key the access token is bound to.');
  // The provider's own record of seen proofs (per client), which its endpoints use too.
  if (!(await entry.provider.ReplayDetection.unique(token.clientId!, payload.jti, now + PROOF_WINDOW_SECONDS))) {
    throw invalidProof('The DPoP proof was already used.');
  }
}

/** RFC 9449 §4.3 item 9: the URL without query and fragment. */
function sameTarget(htu: unknown, expected: string): boolean {
  if (typeof htu !== 'string' || !URL.canParse(htu)) return false;
  const url = new URL(htu);
  url.search = '';
  url.hash = '';
  return url.href === new URL(expected).href;
}

async function authenticate(ctx: Context, entry: PoolProvider, users: UserService, scopes: readonly string[]): Promise<Caller> {
  const { scheme, value } = credentialsOf(ctx);
  const token = await entry.provider.AccessToken.find(value);
  if (!token || token.isExpired || !token.accountId || !token.clientId) throw invalidToken(scheme, 'The access token is not valid at this pool.');
  if (token['x5t#S256']) throw invalidToken(scheme, 'Certificate-bound access tokens are not accepted here.');
  if (token.jkt) {
    // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused.
    if (scheme !== 'DPoP') throw invalidToken('Bearer', 'This access token is bound to a DPoP key: send it as "Authorization: DPoP" with a proof.');
    await checkProof(ctx, entry, token, value);
  } else if (scheme === 'DPoP') {
    throw invalidToken('DPoP', 'This access token is not bound to a DPoP key: send it as "Authorization: Bearer".');
  }
  // A token for a resource server (RFC 8707) is that server's, not the pool's.
  if (token.aud !== undefined) throw invalidToken(scheme, 'The access token is for another resource.');
  const missing = scopes.filter((scope) => !token.scopes.has(scope));
  if (missing.length > 0) throw insufficientScope(scheme, scopes);
  const user = await users.findActiveUser(entry.pool.id, token.accountId);
  if (!user) throw invalidToken(scheme, 'The access token is not valid at this pool.');
  return { pool: entry.pool, userId: user.id, clientId: token.clientId, scopes: token.scopes };
}

export interface ResourceRoutes {
  /** What the pool gateway matches (errors thrown here reach the request frame's JSON answer). */
  readonly router: Router;
  get(path: string, handler: ResourceHandler, rule?: AccessRule): void;
  post(path: string, handler: ResourceHandler, rule?: AccessRule): void;
  put(path: string, handler: ResourceHandler, rule?: AccessRule): void;
  patch(path: string, handler: ResourceHandler, rule?: AccessRule): void;
  delete(path: string, handler: ResourceHandler, rule?: AccessRule): void;
}

export function createResourceRoutes(deps: { users: UserService }): ResourceRoutes {
  const router = new Router();

  function guarded(handler: ResourceHandler, rule: AccessRule = {}) {
    const scopes = rule.scopes ?? ['openid'];
    return async function checkAccessToken(ctx: Context): Promise<void> {
      ctx.set('Cache-Control', 'no-store');
      const entry = ctx.state.poolProvider as PoolProvider;
      if (rule.offered && !rule.offered(entry.pool)) throw problems.notFound('Resource', `Nothing at ${ctx.originalUrl.split('?')[0]}.`);
      await handler(ctx, await authenticate(ctx, entry, deps.users, scopes));
    };
  }

  return {
    router,
    get: (path, handler, rule) => void router.get(path, guarded(handler, rule)),
    post: (path, handler, rule) => void router.post(path, guarded(handler, rule)),
    put: (path, handler, rule) => void router.put(path, guarded(handler, rule)),
    patch: (path, handler, rule) => void router.patch(path, guarded(handler, rule)),
    delete: (path, handler, rule) => void router.delete(path, guarded(handler, rule)),
  };
}
