/**
 * Client metadata remembered for the life of one pool's provider (issue 7, ADR 0700).
 *
 * Every token, introspection and code-exchange request looks its client up; without this
 * each one is a database round trip and an AES-GCM open of the secret. Remembering is
 * safe because a cached provider never outlives its clients' metadata: every client change
 * goes through the admin API, which bumps the pool's version and drops the provider (and
 * with it this cache) in this process; other processes rebuild it within
 * PROVIDER_CHECK_INTERVAL_MS, the bound every other pool setting already has.
 * Unknown client ids are not remembered, so junk ids cannot grow it; the size matches
 * oidc-provider's own cache of built clients (100).
 */
import { LRUCache } from 'lru-cache';
import type { OidcClientMetadata } from '../clients/clients.service.js';

export const CLIENT_CACHE_SIZE = 100;

export type FindClient = (clientId: string) => Promise<OidcClientMetadata | undefined>;

export function rememberClients(findClient: FindClient, max = CLIENT_CACHE_SIZE): FindClient {
  const known = new LRUCache<string, OidcClientMetadata>({ max });
  return async function findRememberedClient(clientId) {
    const hit = known.get(clientId);
    if (hit) return hit;
    const found = await findClient(clientId);
    if (found) known.set(clientId, found);
    return found;
  };
}
