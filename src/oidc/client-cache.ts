/**
 * Clients remembered for the life of one pool's provider (ADR 0701).
 *
 * Every token, introspection and code-exchange request looks its client up. Without this,
 * each lookup is a database round trip and an AES-GCM open of the secret, and even when the
 * metadata is at hand oidc-provider serialises and hashes it to find its built client (it
 * caches dynamic clients by a hash of their metadata). Here the built client itself is
 * remembered by id, so a lookup is one map access.
 *
 * Remembering is safe because a cached provider never outlives its clients' metadata: every
 * client change goes through the admin API, which bumps the pool's version and drops the
 * provider (and with it this cache) in this process; other processes rebuild it within
 * PROVIDER_CHECK_INTERVAL_MS, the bound every other pool setting already has.
 * Unknown client ids are not remembered, so junk ids cannot grow it; the size matches
 * oidc-provider's own cache of built clients (100).
 * It relies on oidc-provider's endpoints looking clients up through `Provider.Client.find`;
 * test/oidc/library-assumptions.test.ts fails on an upgrade where they no longer do.
 */
import { LRUCache } from 'lru-cache';
import type Provider from 'oidc-provider';

export const CLIENT_CACHE_SIZE = 100;

type BuiltClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/** Makes `provider.Client.find` answer from memory for clients it has built before. */
export function rememberClients(provider: Provider, max = CLIENT_CACHE_SIZE): void {
  const Client = provider.Client;
  const find = Client.find.bind(Client);
  const built = new LRUCache<string, BuiltClient>({ max });
  Client.find = async function findRememberedClient(clientId: string) {
    const hit = built.get(clientId);
    if (hit) return hit;
    const client = await find(clientId);
    if (client) built.set(clientId, client);
    return client;
  };
}
