/**
 * One node-oidc-provider instance per pool, built on first use from the pool's rows and
 * kept in a bounded LRU (memory is bounded by the cache size, not the number of pools).
 * An entry is dropped when this process changes the pool, and re-checks the pool's
 * version at most every `checkIntervalMs`, so changes made by another instance are seen.
 * Concurrent first requests for a pool share one build.
 */
import compose from 'koa-compose';
import type { Middleware } from 'koa';
import { LRUCache } from 'lru-cache';
import Provider from 'oidc-provider';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import type { PoolRow } from '../db/tables.js';
import type { OidcClientMetadata } from '../clients/clients.service.js';
import { createKeyQueries } from '../keys/keys.queries.js';
import { nextKeyExpiry, publishedKeys } from '../keys/keys.service.js';
import type { Logger } from '../log.js';
import type { OutgoingFetch } from '../net/outgoing-fetch.js';
import { issuerFor } from '../pools/pools.service.js';
import { createPoolQueries } from '../pools/pools.queries.js';
import type { UserService } from '../users/users.service.js';
import type { GroupNameSource } from './groups-claim.js';
import type { PageRenderer } from '../views/render.js';
import { rememberClients } from './client-cache.js';
import { createMetadataCache, type MetadataCache } from './metadata-cache.js';
import { buildProviderConfiguration } from './provider-config.js';
import { builtInClientMetadata } from './built-in-clients.js';
import { createArtifactAtRest } from './artifact-at-rest.js';
import { deviceFormNeedsSession } from './device-pages.js';
import { signedOutPageKnowsClient } from './signed-out.js';

export interface PoolProvider {
  pool: PoolRow;
  provider: Provider;
  /** The provider's middleware, to run on a request whose path has the pool prefix removed. */
  handle: Middleware;
  version: number;
  checkedAt: number;
  /** When a retired key ages out of the JWKS and the entry must be rebuilt. */
  staleAt: number | undefined;
  /** Discovery and JWKS answers of this provider (they live and die with the entry). */
  metadata: MetadataCache;
}

export interface ProviderRegistryDeps {
  db: Db;
  envelope: Envelope;
  /** Key of the keyed hashes of artifact ids and lookup keys (ADR 0709). */
  artifactKey: Buffer;
  users: UserService;
  groups: GroupNameSource;
  findClient(poolId: string, clientId: string): Promise<OidcClientMetadata | undefined>;
  pages: PageRenderer;
  cookieKeys: string[];
  /** The provider's outgoing requests, under the deployment's outgoing-network policy. */
  outgoingFetch: OutgoingFetch;
  publicUrl: string;
  /** Reverse proxies whose X-Forwarded-* headers are believed (config.trustedProxies). */
  trustedProxies: number;
  cacheSize: number;
  checkIntervalMs: number;
  log: Logger;
  clock?: () => number;
  /** Called with each provider built (metrics, fault hooks). */
  instrument?: (provider: Provider, poolId: string) => void;
  /** Tells other instances that this one changed the pool (LISTEN/NOTIFY, ADR 0801). */
  publishChange?: (poolId: string) => void;
}

export function createProviderRegistry(deps: ProviderRegistryDeps) {
  const clock = deps.clock ?? Date.now;
  const cache = new LRUCache<string, PoolProvider>({ max: deps.cacheSize });
  const building = new Map<string, Promise<PoolProvider | undefined>>();
  const pools = createPoolQueries(deps.db);
  let hits = 0;
  let misses = 0;
  // Bumped whenever entries are dropped: a build that started before must not cache its result.
  let generation = 0;

  async function build(poolId: string): Promise<PoolProvider | undefined> {
    const pool = await pools.findPool(poolId);
    if (!pool) return undefined;
    const rows = await createKeyQueries(deps.db, poolId).listKeys();
    const now = new Date(clock());
    const issuer = issuerFor(deps.publicUrl, poolId);
    const configuration = buildProviderConfiguration(pool, publishedKeys(deps.envelope, poolId, rows, now), {
      db: deps.db,
      users: deps.users,
      groups: deps.groups,
      // Tarn's own first-party clients (the account page) exist in every pool, without a row.
      findClient: async (clientId) => builtInClientMetadata({ poolId, issuer, publicUrl: deps.publicUrl }, clientId) ?? deps.findClient(poolId, clientId),
      pages: deps.pages,
      cookieKeys: deps.cookieKeys,
      artifactsAtRest: createArtifactAtRest({ key: deps.artifactKey, envelope: deps.envelope, poolId }),
      fetch: deps.outgoingFetch,
      log: deps.log,
    });
    const provider = new Provider(issuer, configuration);
    provider.proxy = deps.trustedProxies > 0;
    provider.maxIpsCount = deps.trustedProxies;
    rememberClients(provider);
    provider.use(deviceFormNeedsSession(provider.cookieName('session')) as never);
    provider.use(signedOutPageKnowsClient() as never);
    provider.on('server_error', (_ctx, error) => deps.log.error({ err: error, poolId }, 'provider server error'));
    deps.instrument?.(provider, poolId);
    return {
      pool,
      provider,
      handle: compose(provider.middleware) as Middleware,
      version: pool.version,
      checkedAt: clock(),
      staleAt: nextKeyExpiry(rows, now),
      metadata: createMetadataCache(),
    };
  }

  function buildOnce(poolId: string): Promise<PoolProvider | undefined> {
    let pending = building.get(poolId);
    if (!pending) {
      const startedIn = generation;
      pending = build(poolId)
        .then((entry) => {
          if (entry && startedIn === generation) cache.set(poolId, entry);
          return entry;
        })
        .finally(() => {
          if (building.get(poolId) === pending) building.delete(poolId);
        });
      building.set(poolId, pending);
    }
    return pending;
  }

  /** Fresh without asking the database: built or checked within the interval, no key aged out. */
  function isRecent(entry: PoolProvider, now: number): boolean {
    return (entry.staleAt === undefined || now < entry.staleAt) && now - entry.checkedAt < deps.checkIntervalMs;
  }

  async function isFresh(poolId: string, entry: PoolProvider): Promise<boolean> {
    const now = clock();
    if (entry.staleAt !== undefined && now >= entry.staleAt) return false;
    if (isRecent(entry, now)) return true;
    const version = await pools.findPoolVersion(poolId);
    if (version !== entry.version) return false;
    entry.checkedAt = now;
    return true;
  }

  return {
    /**
     * The pool's provider when it is cached and known to be fresh, without waiting for
     * anything (the hot path); otherwise undefined, and `get` must be asked.
     */
    peek(poolId: string): PoolProvider | undefined {
      const entry = cache.get(poolId);
      if (!entry || !isRecent(entry, clock())) return undefined;
      hits += 1;
      return entry;
    },

    /** The pool's provider, or undefined when there is no such pool. */
    async get(poolId: string): Promise<PoolProvider | undefined> {
      const entry = cache.get(poolId);
      if (entry && (await isFresh(poolId, entry))) {
        hits += 1;
        return entry;
      }
      misses += 1;
      cache.delete(poolId);
      return buildOnce(poolId);
    },

    poolChanged(poolId: string): void {
      generation += 1;
      cache.delete(poolId);
      building.delete(poolId);
      deps.publishChange?.(poolId);
    },

    /** Another instance changed the pool: drop its provider, tell nobody. */
    forgetPool(poolId: string): void {
      generation += 1;
      cache.delete(poolId);
      building.delete(poolId);
    },

    /** Changes may have been missed: drop every provider. */
    forgetAll(): void {
      generation += 1;
      cache.clear();
      building.clear();
    },

    /** Asks the pool's provider whether it would accept this client; a description of the problem, or undefined. */
    async checkClientMetadata(poolId: string, metadata: OidcClientMetadata): Promise<string | undefined> {
      const entry = await this.get(poolId);
      if (!entry) return 'unknown pool';
      try {
        await entry.provider.Client.validate(metadata);
        return undefined;
      } catch (error) {
        const e = error as { error_description?: string; message?: string };
        return e.error_description ?? e.message ?? 'invalid client metadata';
      }
    },

    stats() {
      return { size: cache.size, max: deps.cacheSize, hits, misses };
    },
  };
}

export type ProviderRegistry = ReturnType<typeof createProviderRegistry>;
