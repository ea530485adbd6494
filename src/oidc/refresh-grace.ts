/**
 * The refresh-token reuse grace period of a client (`refreshTokenReuseGraceSeconds`, ADR 0604).
 * Refresh tokens rotate on every use, and a rotated token used again revokes its grant
 * (RFC 9700 §4.14.2). Some relying parties (mod_auth_openidc with several workers) send one
 * refresh token several times at once; the late copies would revoke the grant under them.
 * Inside the client's window after the first use, a reused token is shown to the provider as
 * not yet consumed, so the provider rotates it again: the caller gets another refresh token of
 * the same grant (family). After the window, reuse detection applies as before.
 * - The window runs from the first use: a reuse never re-consumes (it would slide the window).
 * - With 0 (the default) nothing changes and no extra work is done.
 * Wraps the storage adapter; the adapter itself knows nothing of this.
 */
import { LRUCache } from 'lru-cache';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { REFRESH_GRACE_METADATA, type OidcClientMetadata } from '../clients/clients.service.js';

type AdapterFactory = (model: string) => Adapter;

export function withRefreshGrace(factory: AdapterFactory, findClient: (clientId: string) => Promise<OidcClientMetadata | undefined>): AdapterFactory {
  return (model) => {
    const inner = factory(model);
    if (model !== 'RefreshToken') return inner;
    // Tokens shown unconsumed inside their window, whose consume() must not move the window.
    const reused = new LRUCache<string, true>({ max: 10_000 });

    async function graceOf(payload: AdapterPayload): Promise<number> {
      const client = typeof payload.clientId === 'string' ? await findClient(payload.clientId) : undefined;
      const grace = client?.[REFRESH_GRACE_METADATA];
      return typeof grace === 'number' ? grace : 0;
    }

    // Every other method of the adapter goes straight through.
    return {
      upsert: (id, payload, expiresIn) => inner.upsert(id, payload, expiresIn),
      findByUid: (uid) => inner.findByUid(uid),
      findByUserCode: (userCode) => inner.findByUserCode(userCode),
      destroy: (id) => inner.destroy(id),
      revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
      async find(id) {
        const payload = await inner.find(id);
        if (!payload?.consumed) return payload;
        const grace = await graceOf(payload);
        const usedAgo = Date.now() / 1000 - Number(payload.consumed);
        if (grace <= 0 || usedAgo > grace) return payload;
        reused.set(id, true);
        const inWindow = { ...payload };
        delete inWindow.consumed;
        return inWindow;
      },
      async consume(id) {
        if (reused.delete(id)) return;
        await inner.consume(id);
      },
    };
  };
}
