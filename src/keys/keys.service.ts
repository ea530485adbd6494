/**
 * Signing-key life cycle (docs/design.md#signing-keys), for each algorithm a pool offers:
 *   next     published ahead of use, so relying parties have it cached before it signs;
 *   current  signs ID tokens and JWT access tokens;
 *   retired  no longer signs, still published until what it signed has expired;
 *   revoked  never published; what it signed no longer verifies.
 * rotate:              next → current, current → retired, a new next.
 * rotate(revoke=true): the same, but current → revoked at once (a compromise response).
 * Private keys are sealed with the master key, bound to (pool, kid).
 */
import type { PublicJwk } from './jwk.schemas.js';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import type { KeyAlg, SigningKeyRow } from '../db/tables.js';
import { createKeyQueries, type NewSigningKey } from './keys.queries.js';

export const KEY_ALGS: readonly KeyAlg[] = ['RS256', 'ES256'];

/** Longest life of anything a key signs (ID tokens, JWT access tokens, logout tokens), with margin. */
export const RETIRED_KEY_PUBLISH_SECONDS = 24 * 60 * 60;

export interface PublishedKey {
  kid: string;
  alg: KeyAlg;
  status: 'current' | 'next' | 'retired';
  /** Private JWK, decrypted, for the provider's keystore. */
  privateJwk: Record<string, unknown>;
}

function contextOf(poolId: string, kid: string): string {
  return `signing-key:${poolId}:${kid}`;
}

async function generateKey(envelope: Envelope, poolId: string, alg: KeyAlg, status: 'current' | 'next'): Promise<NewSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const kid = randomBytes(12).toString('base64url');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  return { kid, alg, status, publicJwk, privateJwkEnc: envelope.seal(JSON.stringify(privateJwk), contextOf(poolId, kid)) };
}

/**
 * A pool's first keys: a current and a next one for each algorithm. Generated before the
 * transaction that stores them (RSA generation is slow; a transaction should not wait on it).
 */
export function generateInitialKeys(envelope: Envelope, poolId: string): Promise<NewSigningKey[]> {
  return Promise.all(KEY_ALGS.flatMap((alg) => [generateKey(envelope, poolId, alg, 'current'), generateKey(envelope, poolId, alg, 'next')]));
}

export function generateNextKeys(envelope: Envelope, poolId: string): Promise<NewSigningKey[]> {
  return Promise.all(KEY_ALGS.map((alg) => generateKey(envelope, poolId, alg, 'next')));
}

/** Rotates every algorithm's keys together, `fresh` becoming the new next keys. Run inside a transaction. */
export async function rotateSigningKeys(db: Db, poolId: string, fresh: NewSigningKey[], options: { revoke: boolean }): Promise<void> {
  const keys = createKeyQueries(db, poolId);
  await keys.moveKeys('current', options.revoke ? 'revoked' : 'retired');
  await keys.moveKeys('next', 'current');
  await keys.insertKeys(fresh);
}

export function isPublished(row: SigningKeyRow, now: Date): boolean {
  if (row.status === 'revoked') return false;
  if (row.status !== 'retired') return true;
  const retiredAt = row.retired_at ? new Date(row.retired_at).getTime() : 0;
  return retiredAt + RETIRED_KEY_PUBLISH_SECONDS * 1000 > now.getTime();
}

/** When the set of published keys next changes by itself (a retired key ages out), if ever. */
export function nextKeyExpiry(rows: SigningKeyRow[], now: Date): number | undefined {
  const times = rows
    .filter((row) => row.status === 'retired' && isPublished(row, now))
    .map((row) => new Date(row.retired_at!).getTime() + RETIRED_KEY_PUBLISH_SECONDS * 1000);
  return times.length ? Math.min(...times) : undefined;
}

const ORDER: Record<string, number> = { current: 0, next: 1, retired: 2 };

/**
 * Keys for the provider's keystore, current first: oidc-provider signs with the first
 * key of an algorithm, and `key_ops: ['verify']` keeps next and retired keys from signing.
 */
export function publishedKeys(envelope: Envelope, poolId: string, rows: SigningKeyRow[], now: Date): PublishedKey[] {
  return rows
    .filter((row) => isPublished(row, now))
    .sort((a, b) => (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9))
    .map((row) => ({
      kid: row.kid,
      alg: row.alg,
      status: row.status as PublishedKey['status'],
      privateJwk: JSON.parse(envelope.open(row.private_jwk_enc, contextOf(poolId, row.kid))) as Record<string, unknown>,
    }));
}

export function toKeyResponse(row: SigningKeyRow, now: Date) {
  return {
    kid: row.kid,
    alg: row.alg,
    status: row.status,
    published: isPublished(row, now),
    publicJwk: row.public_jwk as PublicJwk,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    revokedAt: row.revoked_at,
  };
}
