/**
 * Firebase Authentication's modified scrypt (as documented with Firebase's own scrypt tool):
 *   key  = scrypt(password, salt ‖ saltSeparator, N = 2^memCost, r = rounds, p = 1, 64 bytes)
 *   hash = AES-256-CTR(key[0..32], IV = 16 zero bytes) of the project's signer key
 * The signer key, salt separator, rounds and memory cost are the project's, given once per
 * import; each user brings a salt and a hash. All of it is stored with the user, since
 * checking needs all of it:
 *   $firebase-scrypt$r=<rounds>,m=<memCost>$<separator>$<signer key>$<salt>$<hash>  (base64)
 * and it goes away with the rest at the first sign-in, when the password becomes argon2id.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';
import { decodeBase64, encodeBase64, parseBoundedInt } from './encoding.js';
import { deriveScrypt } from './scrypt.js';

export interface FirebaseScryptSettings {
  signerKey: string;
  saltSeparator: string;
  rounds: number;
  memCost: number;
}

const STORED = /^\$firebase-scrypt\$r=(\d+),m=(\d+)\$([^$]*)\$([^$]+)\$([^$]*)\$([^$]+)$/;

export type Parsed = { ok: true; stored: string } | { ok: false; problem: string };

export function parseFirebaseScrypt(hash: string, salt: string | undefined, settings: FirebaseScryptSettings | undefined): Parsed {
  if (!settings) return { ok: false, problem: "Needs the project's Firebase scrypt parameters (a settings line with firebaseScrypt before the users)." };
  const derived = decodeBase64(hash);
  const saltBytes = decodeBase64(salt ?? '');
  if (!derived || derived.length < 16) return { ok: false, problem: 'Is not a base64 Firebase hash.' };
  if (!saltBytes || saltBytes.length === 0) return { ok: false, problem: "Needs the user's base64 salt in passwordSalt." };
  const separator = decodeBase64(settings.saltSeparator)!;
  const signer = decodeBase64(settings.signerKey)!;
  const parts = [separator, signer, saltBytes, derived].map(encodeBase64).join('$');
  return { ok: true, stored: `$firebase-scrypt$r=${settings.rounds},m=${settings.memCost}$${parts}` };
}

/** Settings are checked once, where they are given. */
export function firebaseSettingsProblem(settings: FirebaseScryptSettings): string | undefined {
  if (!decodeBase64(settings.signerKey)?.length) return 'signerKey must be base64.';
  if (decodeBase64(settings.saltSeparator) === undefined) return 'saltSeparator must be base64.';
  if (!parseBoundedInt(settings.rounds, 1, 16)) return 'rounds must be an integer from 1 to 16.';
  if (!parseBoundedInt(settings.memCost, 1, 16)) return 'memCost must be an integer from 1 to 16.';
  return undefined;
}

export function parseStoredFirebaseScrypt(stored: string): string | undefined {
  const match = STORED.exec(stored);
  if (!match || !parseBoundedInt(match[1], 1, 16) || !parseBoundedInt(match[2], 1, 16)) return undefined;
  return match.slice(3).every((part) => decodeBase64(part) !== undefined) ? stored : undefined;
}

export function isFirebaseScrypt(stored: string): boolean {
  return stored.startsWith('$firebase-scrypt$');
}

export async function firebaseScryptHash(password: string, salt: Buffer, separator: Buffer, signer: Buffer, rounds: number, memCost: number): Promise<Buffer> {
  const key = await deriveScrypt(password, Buffer.concat([salt, separator]), memCost, rounds, 1, 64);
  const cipher = createCipheriv('aes-256-ctr', key.subarray(0, 32), Buffer.alloc(16));
  return Buffer.concat([cipher.update(signer), cipher.final()]);
}

export async function verifyFirebaseScrypt(stored: string, password: string): Promise<boolean> {
  const match = STORED.exec(stored);
  if (!match) return false;
  const [separator, signer, salt, expected] = match.slice(3).map((part) => decodeBase64(part));
  if (!separator || !signer || !salt || !expected) return false;
  const computed = await firebaseScryptHash(password, salt, separator, signer, Number(match[1]), Number(match[2]));
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
