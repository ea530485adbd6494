/**
 * CSRF tokens for hosted forms: an HMAC of the interaction it belongs to. The interaction
 * id is also the value of the browser's interaction cookie, which another site cannot
 * read, so a forged form cannot carry a valid token.
 */
import { hmac, safeEqual } from '../../crypto/secrets.js';

export function csrfToken(key: Buffer, poolId: string, uid: string): string {
  return hmac(key, `csrf:${poolId}:${uid}`);
}

export function csrfValid(key: Buffer, poolId: string, uid: string, token: unknown): boolean {
  return typeof token === 'string' && token.length > 0 && safeEqual(token, csrfToken(key, poolId, uid));
}
