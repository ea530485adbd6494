/**
 * bcrypt as written by OpenBSD ($2a$, $2b$), PHP ($2y$) and Auth0's export: kept as is and
 * checked with bcryptjs (pure JavaScript, so the lock file stays the same on every platform).
 * $2y$ and $2b$ are the same algorithm as $2a$ with the 8-bit bug fixed; bcryptjs reads all three.
 */
import bcrypt from 'bcryptjs';

// 22 characters of salt and 31 of hash in bcrypt's own base64 alphabet; cost 4 to 31.
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
/**
 * Costs above this are refused at import: each step doubles the work, and bcryptjs runs on
 * the event loop, so a cost-31 hash would keep one sign-in busy for days, at every pool's
 * expense. Real exports use 10 to 12.
 */
export const MAX_BCRYPT_COST = 15;

export function parseBcrypt(hash: string): string | undefined {
  const cost = BCRYPT.exec(hash)?.[1];
  return cost !== undefined && Number(cost) <= MAX_BCRYPT_COST ? hash : undefined;
}

export function isBcrypt(stored: string): boolean {
  return BCRYPT.test(stored);
}

export function verifyBcrypt(stored: string, password: string): Promise<boolean> {
  return bcrypt.compare(password, stored);
}
