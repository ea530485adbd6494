/** Signing keys of one pool. Every function is bound to the pool it was created for. */
import type { Db } from '../db/database.js';
import type { KeyAlg, KeyStatus, SigningKeyRow } from '../db/tables.js';

export interface NewSigningKey {
  kid: string;
  alg: KeyAlg;
  status: KeyStatus;
  publicJwk: Record<string, unknown>;
  privateJwkEnc: string;
}

export function createKeyQueries(db: Db, poolId: string) {
  return {
    listKeys(): Promise<SigningKeyRow[]> {
      return db.selectFrom('signing_keys').selectAll().where('pool_id', '=', poolId).orderBy('created_at', 'desc').orderBy('kid').execute();
    },

    async insertKeys(keys: NewSigningKey[]): Promise<void> {
      if (keys.length === 0) return;
      await db
        .insertInto('signing_keys')
        .values(
          keys.map((key) => ({
            pool_id: poolId,
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
      await db
        .updateTable('signing_keys')
        .set({
          status: to,
          ...(to === 'current' ? { activated_at: now } : {}),
          ...(to === 'retired' ? { retired_at: now } : {}),
          ...(to === 'revoked' ? { revoked_at: now } : {}),
        })
        .where('pool_id', '=', poolId)
        .where('status', '=', from)
        .execute();
    },
  };
}
