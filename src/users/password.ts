/**
 * Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1), set explicitly
 * (the library's defaults would cap sign-ins near 12/s). Concurrent hashes are bounded so
 * a burst of sign-ins queues here instead of starving token issuance of CPU.
 */
import argon2 from 'argon2';
import { needsRehash, verifyStoredHash } from './password-hashes/index.js';

export const ARGON2_PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Any understood format (password-hashes/): argon2id, or a hash imported from another system. */
  verify(hash: string, password: string): Promise<boolean>;
  /** True for an imported hash or older argon2id parameters: rehash after the next successful check. */
  needsRehash(hash: string): boolean;
  /** Spends the same time as a real check when there is no account, so timing tells nothing. */
  verifyNothing(password: string): Promise<false>;
}

function createLimiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function limited<T>(work: () => Promise<T>): Promise<T> {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

export function createPasswordHasher(concurrency: number): PasswordHasher {
  const limited = createLimiter(concurrency);
  let dummy: Promise<string> | undefined;
  const hash = (password: string) => limited(() => argon2.hash(password, ARGON2_PARAMS));
  return {
    hash,
    verify(hashed, password) {
      return limited(() => verifyStoredHash(hashed, password));
    },
    needsRehash(hashed) {
      return needsRehash(hashed, ARGON2_PARAMS);
    },
    async verifyNothing(password) {
      dummy ??= hash('tarn-timing-equaliser');
      const hashed = await dummy;
      await limited(() => argon2.verify(hashed, password).catch(() => false));
      return false;
    },
  };
}
