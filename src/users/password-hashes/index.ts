/**
 * Password hashes brought from another system, understood as they are (no rehash at import):
 *   bcrypt            $2a$ / $2b$ / $2y$                         bcrypt.ts
 *   argon2            argon2id or argon2i PHC string             argon2.ts
 *   scrypt            $scrypt$ln=…,r=…,p=…$salt$hash             scrypt.ts
 *   pbkdf2            $pbkdf2-sha256$i=…$salt$hash (also passlib's) pbkdf2.ts
 *   django            pbkdf2_sha256$iterations$salt$hash         pbkdf2.ts
 *   keycloak          a Keycloak password credential (PBKDF2)    pbkdf2.ts
 *   firebase-scrypt   base64 hash + salt, project parameters     firebase-scrypt.ts
 * Each is stored in users.password_hash in a self-describing form (argon2 and bcrypt as
 * they are, the others with a `$pbkdf2-…`, `$scrypt$` or `$firebase-scrypt$` tag), so the
 * check at sign-in needs nothing but the column. Anything but Tarn's own argon2id
 * parameters is rehashed at the first successful sign-in (needsRehash).
 * Parameters are bounded at import (cost, memory, iterations): a sign-in is work done on a
 * server every pool shares, and an imported hash must not be able to make it unbounded.
 */
import argon2 from 'argon2';
import { ARGON2_LIMITS, isArgon2, parseArgon2 } from './argon2.js';
import { isBcrypt, MAX_BCRYPT_COST, parseBcrypt, verifyBcrypt } from './bcrypt.js';
import { isFirebaseScrypt, parseFirebaseScrypt, parseStoredFirebaseScrypt, verifyFirebaseScrypt, type FirebaseScryptSettings } from './firebase-scrypt.js';
import { isPbkdf2, parseDjango, parseKeycloak, parsePbkdf2, verifyPbkdf2 } from './pbkdf2.js';
import { isScrypt, parseScrypt, verifyScrypt } from './scrypt.js';

export type { FirebaseScryptSettings } from './firebase-scrypt.js';
export { firebaseSettingsProblem } from './firebase-scrypt.js';

export const PASSWORD_HASH_FORMATS = ['bcrypt', 'argon2', 'scrypt', 'pbkdf2', 'django', 'keycloak', 'firebase-scrypt'] as const;
export type PasswordHashFormat = (typeof PASSWORD_HASH_FORMATS)[number];

export interface ForeignHash {
  format: PasswordHashFormat;
  /** A string for every format but keycloak, whose credential is an object (or its JSON text). */
  hash: unknown;
  /** firebase-scrypt: the user's own salt (base64). */
  salt?: string | undefined;
}

export interface ImportSettings {
  firebaseScrypt?: FirebaseScryptSettings | undefined;
}

export type StoredHashResult = { ok: true; stored: string } | { ok: false; problem: string };

const fromString = (value: string | undefined, problem: string): StoredHashResult => (value ? { ok: true, stored: value } : { ok: false, problem });

/** The value for users.password_hash, or what is wrong with the hash (said of the passwordHash field). */
export function toStoredHash(foreign: ForeignHash, settings: ImportSettings = {}): StoredHashResult {
  if (foreign.format === 'keycloak') return parseKeycloak(foreign.hash);
  if (typeof foreign.hash !== 'string') return { ok: false, problem: 'Must be a string for this format.' };
  const hash = foreign.hash;
  switch (foreign.format) {
    case 'bcrypt':
      return fromString(parseBcrypt(hash), `Is not a bcrypt hash ($2a$, $2b$ or $2y$) of cost 04 to ${MAX_BCRYPT_COST}.`);
    case 'argon2':
      return fromString(
        parseArgon2(hash),
        `Is not an argon2id or argon2i PHC string with m ≤ ${ARGON2_LIMITS.m}, t ≤ ${ARGON2_LIMITS.t}, p ≤ ${ARGON2_LIMITS.p}.`,
      );
    case 'scrypt':
      return fromString(parseScrypt(hash), 'Is not a scrypt hash ($scrypt$ln=…,r=…,p=…$salt$hash) needing at most 256 MiB.');
    case 'pbkdf2':
      return parsePbkdf2(hash);
    case 'django':
      return parseDjango(hash);
    case 'firebase-scrypt':
      // Tarn's own export of a hash not yet rehashed carries the project parameters with it.
      if (isFirebaseScrypt(hash)) return fromString(parseStoredFirebaseScrypt(hash), 'Is not a readable $firebase-scrypt$ hash.');
      return parseFirebaseScrypt(hash, foreign.salt, settings.firebaseScrypt);
  }
}

/** Checks a password against a stored hash of any understood format; false for anything unreadable. */
export async function verifyStoredHash(stored: string, password: string): Promise<boolean> {
  try {
    if (isArgon2(stored)) return await argon2.verify(stored, password);
    if (isBcrypt(stored)) return await verifyBcrypt(stored, password);
    if (isPbkdf2(stored)) return await verifyPbkdf2(stored, password);
    if (isScrypt(stored)) return await verifyScrypt(stored, password);
    if (isFirebaseScrypt(stored)) return await verifyFirebaseScrypt(stored, password);
    return false;
  } catch {
    return false;
  }
}

/** True unless the hash is argon2id with exactly the given parameters. */
export function needsRehash(stored: string, params: { memoryCost: number; timeCost: number; parallelism: number }): boolean {
  if (!stored.startsWith('$argon2id$')) return true;
  return argon2.needsRehash(stored, { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism });
}

/** The format name an exported hash is imported back with. */
export function formatOfStored(stored: string): PasswordHashFormat | undefined {
  if (isArgon2(stored)) return 'argon2';
  if (isBcrypt(stored)) return 'bcrypt';
  if (isPbkdf2(stored)) return 'pbkdf2';
  if (isScrypt(stored)) return 'scrypt';
  if (isFirebaseScrypt(stored)) return 'firebase-scrypt';
  return undefined;
}
