/** Signing keys of one pool. Every function is bound to the pool it was created for. */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { KeyAlg, KeyStatus, SigningKeyRow } from '../db/tables.js';

export interface NewSigningKey {
  kid: string;
  alg: KeyAlg;
  status: KeyStatus;
  publicJwk: Record<string, unknown>;
  privateJwkEnc: string;
}

export function createKeyQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    listKeys(): Promise<SigningKeyRow[]> {
      return pool.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid').execute();
    },

    async insertKeys(keys: NewSigningKey[]): Promise<void> {
      if (keys.length === 0) return;
      await pool
        .insertInto(
          'signing_keys',
          keys.map((key) => ({
            kid: key.kid,
            alg: key.alg,
            status: key.status,
            public_jwk: JSON.stringify(key.publicJwk),
            private_jwk_enc: key.privateJwkEnc,
            activated_at: key.status === 'current' ? new Date() : null,
          })),
        )
        .execute();
    },

    /** Moves every key in `from` to `to`, stamping the matching time column. */
    async moveKeys(from: KeyStatus, to: KeyStatus): Promise<void> {
      const now = new Date();
      await pool
        .updateTable('signing_keys')
        .set({
          status: to,
          ...(to === 'current' ? { activated_at: now } : {}),
          ...(to === 'retired' ? { retired_at: now } : {}),
          ...(to === 'revoked' ? { revoked_at: now } : {}),
        })
        .where('status', '=', from)
        .execute();
    },
  };
}
