/**
 * One-time codes: 6 digits for people to type, plus an optional 256-bit link token.
 * - Stored as HMAC-SHA-256 under a server key, bound to the pool, purpose and code id
 *   (ADR 0301: a 6-digit space cannot resist offline search whatever the hash; what
 *   protects it is the short TTL, the attempt bound and the key not being in the database).
 * - Single use: consuming is conditional in SQL; attempts are counted before checking, so
 *   parallel guesses cannot exceed the bound.
 * - A new code for the same purpose and email replaces the previous ones, except that a
 *   registration code is bound to the interaction (browser) that asked for it: it works only
 *   there, and another interaction's registration of the same address neither replaces nor
 *   uses it (ADR 0304).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { generateId, hmac, safeEqual } from '../crypto/secrets.js';
import type { Db } from '../db/database.js';
import type { CodePurpose, OneTimeCodeRow } from '../db/tables.js';
import { createCodeQueries } from './codes.queries.js';

export const CODE_TTL_MS = 10 * 60 * 1000;
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const MAX_CODE_ATTEMPTS = 5;

export interface CodeServiceDeps {
  db: Db;
  key: Buffer;
  clock: () => Date;
}

export interface IssueOptions {
  purpose: CodePurpose;
  email: string;
  userId?: string | undefined;
  payload?: Record<string, unknown>;
  ttlMs: number;
  withLinkToken?: boolean;
  /** The interaction id the code belongs to; only a use from the same interaction succeeds. */
  boundTo?: string | undefined;
}

export type TokenState = { state: 'live'; row: OneTimeCodeRow } | { state: 'used' | 'expired' | 'unknown'; row?: OneTimeCodeRow | undefined };

export function createCodeService({ db, key, clock }: CodeServiceDeps) {
  const codeHash = (poolId: string, purpose: string, id: string, code: string) => hmac(key, `otc:${poolId}:${purpose}:${id}:${code}`);
  const tokenHash = (poolId: string, token: string) => hmac(key, `otl:${poolId}:${token}`);
  const isExpired = (row: OneTimeCodeRow) => new Date(row.expires_at).getTime() <= clock().getTime();
  // Keyed, so a database reader cannot link a code to a live interaction id.
  const bindingOf = (poolId: string, interactionId: string | undefined) => (interactionId === undefined ? null : hmac(key, `otb:${poolId}:${interactionId}`));

  return {
    /** In `executor`'s transaction when given (a code issued with its event, ADR 0809). */
    async issueCode(poolId: string, options: IssueOptions, executor: Db = db) {
      const queries = createCodeQueries(executor, poolId);
      const id = generateId('otc', 12);
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const token = options.withLinkToken ? randomBytes(32).toString('base64url') : undefined;
      const now = clock();
      const expiresAt = new Date(now.getTime() + options.ttlMs);
      const binding = bindingOf(poolId, options.boundTo);
      await queries.deleteCodesFor(options.purpose, options.email, binding);
      await queries.insertCode({
        id,
        purpose: options.purpose,
        userId: options.userId ?? null,
        email: options.email,
        codeHash: codeHash(poolId, options.purpose, id, code),
        tokenHash: token ? tokenHash(poolId, token) : null,
        payload: options.payload ?? {},
        binding,
        createdAt: now,
        expiresAt,
      });
      return { id, code, token, expiresAt };
    },

    /**
     * Checks a typed code against the newest code for (purpose, email, the interaction it is
     * bound to) and consumes it. undefined for every failure alike: unknown, wrong, expired,
     * used up, already used, or asked for by another interaction.
     */
    async useCode(poolId: string, purpose: CodePurpose, email: string, code: string, boundTo?: string): Promise<OneTimeCodeRow | undefined> {
      const queries = createCodeQueries(db, poolId);
      const row = await queries.findLatestCode(purpose, email, bindingOf(poolId, boundTo));
      if (!row || isExpired(row)) return undefined;
      const attempts = await queries.countAttempt(row.id);
      if (attempts > MAX_CODE_ATTEMPTS) return undefined;
      if (!/^\d{6}$/.test(code) || !safeEqual(codeHash(poolId, purpose, row.id, code), row.code_hash)) return undefined;
      return (await queries.consumeCode(row.id, clock())) ? row : undefined;
    },

    /** What a link token points at, and whether it can still be used. */
    async findByToken(poolId: string, token: string): Promise<TokenState> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { state: 'unknown' };
      const row = await createCodeQueries(db, poolId).findCodeByToken(tokenHash(poolId, token));
      if (!row) return { state: 'unknown' };
      if (row.consumed_at) return { state: 'used', row };
      if (isExpired(row)) return { state: 'expired', row };
      return { state: 'live', row };
    },

    async consume(poolId: string, id: string): Promise<boolean> {
      return createCodeQueries(db, poolId).consumeCode(id, clock());
    },

    async revokeCodesOfUser(poolId: string, userId: string, purpose: CodePurpose, executor: Db = db): Promise<void> {
      await createCodeQueries(executor, poolId).deleteCodesOfUser(userId, purpose);
    },
  };
}

export type CodeService = ReturnType<typeof createCodeService>;
