/**
 * What of a provider artifact reaches the database, so that a dump or a backup holds no
 * credential (ADR 0709):
 *   - every id (access and refresh tokens, codes, session and interaction ids, grants …) and
 *     every lookup key (session uid, device user code) is stored as its keyed hash,
 *     HMAC-SHA-256 under a key derived from the master key; the provider's raw value is
 *     hashed again on every lookup, so a stored hash presented as a token finds nothing;
 *   - the payload is stored without its `jti` (the raw id; a lookup by id gives it back);
 *   - payload fields that hold another artifact's raw id, or an id that a lookup by uid or
 *     user code must give back, are sealed (AES-256-GCM, the master key's envelope) with
 *     associated data naming the pool, model and row, so a sealed value copied into another
 *     row does not open.
 * Tokens, codes and grants have nothing to seal: their hot path pays one HMAC per write
 * and per lookup.
 */
import { createHmac } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.js';

type Payload = Record<string, unknown>;

/**
 * Payload fields sealed per model: references to other artifacts' raw ids (an interaction's
 * session cookie value, device code, pushed request, return URL and request parameters,
 * which may carry a request_uri), the logout form's secret, and the raw id itself where the
 * model is also found by something else than its id (Session by uid, DeviceCode by user code).
 */
const SEALED: Readonly<Record<string, readonly string[]>> = {
  Session: ['jti', 'state'],
  DeviceCode: ['jti', 'userCode'],
  Interaction: ['session', 'deviceCode', 'parJti', 'returnTo', 'params'],
};

/** The property a stored payload keeps its sealed fields under. */
const SEALED_FIELD = '$sealed';

export interface StoredArtifact {
  /** The row's key: the keyed hash of the id. */
  key: string;
  payload: Payload;
  /** Keyed hashes of the lookup keys the payload carries. */
  uid: string | null;
  userCode: string | null;
}

export interface ArtifactAtRest {
  /** The stored form of an id, uid or user code. */
  key(value: string): string;
  toStored(model: string, id: string, payload: Payload): StoredArtifact;
  /** The provider's payload of a stored row; `id` is the raw id when the lookup was by id. */
  fromStored(model: string, key: string, stored: Payload, id?: string): Payload;
}

export function createArtifactAtRest({ key: hashKey, envelope, poolId }: { key: Buffer; envelope: Envelope; poolId: string }): ArtifactAtRest {
  const key = (value: string) => createHmac('sha256', hashKey).update(value).digest('base64url');
  const context = (model: string, rowKey: string) => `artifact:${poolId}:${model}:${rowKey}`;
  const lookupKey = (value: unknown) => (typeof value === 'string' ? key(value) : null);

  return {
    key,

    toStored(model, id, payload) {
      const rowKey = key(id);
      const { jti: _jti, ...rest } = payload;
      const stored: Payload = rest;
      const sealed = SEALED[model];
      if (sealed) {
        const secrets: Payload = {};
        for (const field of sealed) {
          const value = field === 'jti' ? id : rest[field];
          if (value === undefined) continue;
          secrets[field] = value;
          delete stored[field];
        }
        stored[SEALED_FIELD] = envelope.seal(JSON.stringify(secrets), context(model, rowKey));
      }
      return { key: rowKey, payload: stored, uid: lookupKey(payload.uid), userCode: lookupKey(payload.userCode) };
    },

    fromStored(model, rowKey, stored, id) {
      const { [SEALED_FIELD]: sealed, ...payload } = stored;
      if (typeof sealed === 'string') Object.assign(payload, JSON.parse(envelope.open(sealed, context(model, rowKey))) as Payload);
      if (id !== undefined) payload.jti = id;
      return payload;
    },
  };
}
