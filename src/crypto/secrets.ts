/** Random secrets, their hashes, and comparisons that take the same time whatever matches. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A high-entropy secret with a recognisable prefix (secret scanners can find leaked ones). */
export function generateSecret(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export function generateId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

/** SHA-256 suits secrets of 256 random bits: no dictionary to search, so no slow hash needed. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  // Hash both sides first so neither the length nor the content leaks through timing.
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

export function hmac(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64url');
}

/** A key for one purpose and one pool, derived from the master key. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masterKey).update(`tarn:${purpose}`).digest();
}
