/**
 * PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-1, SHA-256 or SHA-512, as two systems export it:
 *   Django:   pbkdf2_sha256$<iterations>$<salt text>$<hash base64>  (also pbkdf2_sha1)
 *   Keycloak: a credential whose secretData is {"value": hash base64, "salt": salt base64}
 *             and credentialData {"hashIterations": n, "algorithm": "pbkdf2-sha256"}
 *             ("pbkdf2" alone is SHA-1), both as JSON text in a realm export.
 * Both are stored the same way: $pbkdf2-<digest>$i=<iterations>$<salt base64>$<hash base64>;
 * the derived key is as long as the exported hash (Keycloak's 64 bytes, Django's digest size).
 */
import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { decodeBase64, encodeBase64, parseBoundedInt } from './encoding.js';

export type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512';
const STORED = /^\$pbkdf2-(sha1|sha256|sha512)\$i=(\d+)\$([^$]*)\$([^$]+)$/;
const DJANGO = /^pbkdf2_(sha1|sha256)\$(\d+)\$([^$]+)\$([^$]+)$/;
const KEYCLOAK_ALGORITHMS: Record<string, Pbkdf2Digest> = { pbkdf2: 'sha1', 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512' };
// Django 5 uses about 1,000,000 and Keycloak 210,000 (SHA-512); more is refused at import.
const MAX_ITERATIONS = 2_000_000;

function stored(digest: Pbkdf2Digest, iterations: number, salt: Buffer, hash: Buffer): string {
  return `$pbkdf2-${digest}$i=${iterations}$${encodeBase64(salt)}$${encodeBase64(hash)}`;
}

export type Parsed = { ok: true; stored: string } | { ok: false; problem: string };

export function parseDjango(hash: string): Parsed {
  const match = DJANGO.exec(hash);
  if (!match) return { ok: false, problem: 'Is not a Django PBKDF2 hash (pbkdf2_sha256$iterations$salt$hash).' };
  const iterations = parseBoundedInt(match[2], 1, MAX_ITERATIONS);
  const derived = decodeBase64(match[4]!);
  if (!iterations || !derived || derived.length < 16) return { ok: false, problem: 'Has an unreadable iteration count or hash.' };
  return { ok: true, stored: stored(match[1] as Pbkdf2Digest, iterations, Buffer.from(match[3]!, 'utf8'), derived) };
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      return objectOf(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A Keycloak password credential ({secretData, credentialData}, each an object or its JSON text). */
export function parseKeycloak(credential: unknown): Parsed {
  const outer = objectOf(credential);
  const secret = objectOf(outer?.secretData);
  const data = objectOf(outer?.credentialData);
  if (!secret || !data) return { ok: false, problem: 'Must be a Keycloak credential with secretData and credentialData.' };
  const digest = KEYCLOAK_ALGORITHMS[String(data.algorithm)];
  if (!digest) return { ok: false, problem: `Algorithm "${String(data.algorithm)}" is not one of pbkdf2, pbkdf2-sha256, pbkdf2-sha512.` };
  const iterations = parseBoundedInt(data.hashIterations as number | string, 1, MAX_ITERATIONS);
  const salt = typeof secret.salt === 'string' ? decodeBase64(secret.salt) : undefined;
  const derived = typeof secret.value === 'string' ? decodeBase64(secret.value) : undefined;
  if (!iterations || !salt || !derived || derived.length < 16) return { ok: false, problem: 'Has an unreadable hashIterations, salt or value.' };
  return { ok: true, stored: stored(digest, iterations, salt, derived) };
}

export function isPbkdf2(stored: string): boolean {
  return stored.startsWith('$pbkdf2-');
}

export function derivePbkdf2(password: string, salt: Buffer, iterations: number, length: number, digest: Pbkdf2Digest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, digest, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function verifyPbkdf2(storedHash: string, password: string): Promise<boolean> {
  const match = STORED.exec(storedHash);
  if (!match) return false;
  const salt = decodeBase64(match[3]!);
  const expected = decodeBase64(match[4]!);
  if (!salt || !expected) return false;
  const derived = await derivePbkdf2(password, salt, Number(match[2]), expected.length, match[1] as Pbkdf2Digest);
  return timingSafeEqual(derived, expected);
}

/** $pbkdf2-sha256$i=<n>$salt$hash (Tarn's export) or passlib's $pbkdf2-sha256$<n>$salt$hash. */
export function parsePbkdf2(hash: string): Parsed {
  const match = /^\$pbkdf2-(sha1|sha256|sha512)\$(?:i=)?(\d+)\$([^$]*)\$([^$]+)$/.exec(hash);
  const iterations = parseBoundedInt(match?.[2], 1, MAX_ITERATIONS);
  const salt = decodeBase64(match?.[3] ?? '!');
  const derived = decodeBase64(match?.[4] ?? '!');
  if (!match || !iterations || !salt || !derived || derived.length < 16)
    return { ok: false, problem: 'Is not a PBKDF2 hash ($pbkdf2-sha256$i=iterations$salt$hash).' };
  return { ok: true, stored: stored(match[1] as Pbkdf2Digest, iterations, salt, derived) };
}
