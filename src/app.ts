/**
 * createApp(deps) → the Koa application with everything wired: what main.ts listens
 * with and what tests drive. No module-level state: each call builds its own world.
 */
import Koa from 'koa';
import type { Config } from './config.js';
import { createAdminRouter } from './admin/admin.router.js';
import { createClientService } from './clients/clients.service.js';
import { createEnvelope } from './crypto/envelope.js';
import { deriveKey } from './crypto/secrets.js';
import type { DatabaseHandle } from './db/database.js';
import { createGroupService } from './groups/groups.service.js';
import { createHealthRouter } from './health/health.routes.js';
import { problemErrors } from './http/errors.js';
import { problems } from './http/problem.js';
import { securityHeaders } from './http/security-headers.js';
import { staticAssets } from './http/static.js';
import type { Logger } from './log.js';
import { createInteractionRouter } from './oidc/interactions/interactions.routes.js';
import { createPasskeyInteractions } from './oidc/interactions/passkey.routes.js';
import { registerMyPasskeyRoutes } from './passkeys/passkeys.me.routes.js';
import { createPasskeyService } from './passkeys/passkeys.service.js';
import { poolGateway } from './oidc/pool-gateway.js';
import { registerPostToGetRoutes } from './oidc/post-to-get.js';
import { createProviderRegistry } from './oidc/provider-registry.js';
import { createPoolService } from './pools/pools.service.js';
import { createPasswordHasher } from './users/password.js';
import { createUserService } from './users/users.service.js';
import { createPageRenderer } from './views/render.js';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  log: Logger;
}

export function createApp({ config, database, log }: AppDeps) {
  const { db } = database;
  const envelope = createEnvelope(config.masterKey);
  const cookieKeys = [deriveKey(config.masterKey, 'cookies').toString('base64url')];
  const pages = createPageRenderer({ cache: config.env === 'production' });
  const hasher = createPasswordHasher(config.passwordHashConcurrency);
  const users = createUserService({ db, hasher });
  const groups = createGroupService({ db });

  // The registry and the services that change what it caches refer to each other:
  // services tell it about changes, it asks the client service for client metadata.
  let clients!: ReturnType<typeof createClientService>;
  const registry = createProviderRegistry({
    db,
    envelope,
    users,
    groups,
    findClient: (poolId, clientId) => clients.findOidcMetadata(poolId, clientId),
    pages,
    cookieKeys,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    cacheSize: config.providerCacheSize,
    checkIntervalMs: config.providerCheckIntervalMs,
    log,
  });
  clients = createClientService({ db, envelope, listener: registry, checkMetadata: registry.checkClientMetadata.bind(registry) });
  const pools = createPoolService({ db, envelope, publicUrl: config.publicUrl, listener: registry });

  const passkeys = createPasskeyService({ db, users, publicUrl: config.publicUrl, secret: deriveKey(config.masterKey, 'passkeys') });

  // Pages and pool APIs Tarn serves itself under /pools/{poolId}, before the provider.
  const csrfKey = deriveKey(config.masterKey, 'csrf');
  const passkeyPages = createPasskeyInteractions({ passkeys, users, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, log });
  const hosted = createInteractionRouter({ users, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, passkeys: passkeyPages });
  registerMyPasskeyRoutes(hosted, { passkeys, users, bodyLimitBytes: config.bodyLimitBytes, log });

  const admin = createAdminRouter({ adminToken: config.adminToken, bodyLimitBytes: config.bodyLimitBytes, pools, clients, users, groups, passkeys });
  const health = createHealthRouter(database);
  registerPostToGetRoutes(hosted, config.bodyLimitBytes); // OIDC Core §3.1.2.1: POST at /auth (ADR 0601)

  const app = new Koa({ proxy: config.trustProxy, keys: cookieKeys });
  app.use(securityHeaders);
  app.use(problemErrors(log));
  app.use(staticAssets());
  app.use(health.routes());
  app.use(admin.routes());
  app.use(admin.allowedMethods({ throw: true, methodNotAllowed: () => problems.methodNotAllowed(), notImplemented: () => problems.methodNotAllowed() }));
  app.use(poolGateway({ registry, hosted, pages, log }));

  // Koa's default handler would print stacks to stderr; errors are logged where they are handled.
  app.silent = true;

  return { app, registry, services: { pools, clients, users, groups, passkeys } };
}

export type TarnApp = ReturnType<typeof createApp>;
