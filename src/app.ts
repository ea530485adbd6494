/**
 * createApp(deps) → the Koa application with everything wired: what main.ts listens
 * with and what tests drive. No module-level state: each call builds its own world.
 */
import { createMailTemplateService, withPoolTemplates } from './mail/mail-templates.service.js';
import { registerBrandAssetRoutes } from './branding/brand-assets.routes.js';
import { createBrandingService } from './branding/branding.service.js';
import Koa from 'koa';
import type { Config } from './config.js';
import { createAdminRouter } from './admin/admin.router.js';
import { auditAdminActions, matchAdminRoute } from './audit/audit.middleware.js';
import { createAuditService } from './audit/audit.service.js';
import { startPoolChangeFeed, type PoolChangeFeed } from './db/pool-changes.js';
import { failureLimiter } from './http/rate-limit.js';
import { requestDeadline } from './http/request-deadline.js';
import { rememberProviderFault } from './http/unavailable.js';
import { createMetrics } from './observability/metrics.js';
import { serveMetrics } from './observability/metrics.routes.js';
import { createClientService } from './clients/clients.service.js';
import { createEnvelope } from './crypto/envelope.js';
import { deriveKey } from './crypto/secrets.js';
import type { DatabaseHandle } from './db/database.js';
import { createConnectionService } from './connections/connections.service.js';
import { createFederationService } from './connections/federation.service.js';
import { createUpstreamLogout, registerConnectionRoutes, watchEndedSessions } from './oidc/interactions/connection.routes.js';
import { createGroupService } from './groups/groups.service.js';
import { createHealthRouter } from './health/health.routes.js';
import { problems } from './http/problem.js';
import { requestFrame, type Traffic } from './http/request-frame.js';
import { staticAssets } from './http/static.js';
import type { Logger } from './log.js';
import { createInteractionRouter } from './oidc/interactions/interactions.routes.js';
import { createPasskeyInteractions } from './oidc/interactions/passkey.routes.js';
import { createMfaInteractions } from './oidc/interactions/mfa.routes.js';
import { createPasswordChangeInteractions } from './oidc/interactions/password-change.routes.js';
import { createMfaService } from './mfa/mfa.service.js';
import { registerMyPasskeyRoutes } from './passkeys/passkeys.me.routes.js';
import { createPasskeyService } from './passkeys/passkeys.service.js';
import { callProvider, poolGateway } from './oidc/pool-gateway.js';
import { registerPostToGetRoutes } from './oidc/post-to-get.js';
import { createProviderRegistry } from './oidc/provider-registry.js';
import { watchBackchannelDelivery } from './oidc/backchannel-delivery.js';
import { watchGrantRevocations } from './oidc/grant-revocations.js';
import { createOutgoingFetch } from './net/outgoing-fetch.js';
import { createPoolService } from './pools/pools.service.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { registerActivationRoutes } from './oidc/interactions/activation.routes.js';
import { registerPasswordResetRoutes } from './oidc/interactions/password-reset.routes.js';
import { registerEmailCodeRoutes } from './oidc/interactions/email-code.routes.js';
import { registerRegistrationRoutes } from './oidc/interactions/registration.routes.js';
import { createCodeService } from './users/codes.service.js';
import { createSignInGuard } from './users/lockout.service.js';
import { createMailLimits } from './users/mail-limits.service.js';
import { registerMeRoutes } from './users/me.routes.js';
import { createOnboardingService } from './users/onboarding.service.js';
import { createPasswordResetService } from './users/password-reset.service.js';
import { createSessionService } from './users/sessions.service.js';
import { createPasswordHasher } from './users/password.js';
import { createUserSchemas } from './users/user-schema.js';
import { createUserService } from './users/users.service.js';
import { createImportService } from './users/import/import.service.js';
import { createInvitationService } from './users/invitations.service.js';
import { createPageRenderer } from './views/render.js';
import { createAccountCookies } from './account/account-cookie.js';
import { registerAccountRoutes } from './account/account.routes.js';
import { createAccountService } from './account/account.service.js';
import { createErrorPages } from './http/error-page.js';
import { createResourceRoutes } from './oidc/resource-routes.js';
import { createDeliveryWorker, type DeliveryWorker } from './webhooks/delivery.worker.js';
import { createWebhookService } from './webhooks/webhooks.service.js';
import { RESPONSE_KEPT_BYTES } from './webhooks/delivery.worker.js';
import { builtInClientMetadata } from './oidc/built-in-clients.js';
import { issuerFor } from './pools/pools.service.js';
import compose from 'koa-compose';
import type { Middleware } from 'koa';
import { createAdministrators } from './console/administrators.js';
import { createConsoleRouter } from './console/console.routes.js';
import { consoleErrors } from './console/console-errors.js';
import { createAdminDispatcher } from './console/dispatch.js';
import { createConsoleSetup } from './console/setup.service.js';

export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  log: Logger;
  /** Outgoing mail; default: SMTP_URL through nodemailer, or the log without it. */
  mailer?: Mailer;
  /** "Now" for one-time codes and lockout windows (tests move it instead of sleeping). */
  clock?: () => Date;
}

export function createApp({ config, database, log, mailer: givenMailer, clock = () => new Date() }: AppDeps) {
  const { db } = database;
  const envelope = createEnvelope(config.masterKey);
  const cookieKeys = [deriveKey(config.masterKey, 'cookies').toString('base64url')];
  const pages = createPageRenderer({ cache: config.env === 'production' });
  const hasher = createPasswordHasher(config.passwordHashConcurrency);
  // A pool's own mail templates replace Tarn's mails when it has one (docs/adr/0401).
  const mailTemplates = createMailTemplateService({ db, publicUrl: config.publicUrl });
  const mailer = withPoolTemplates(
    givenMailer ?? createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, log, production: config.env === 'production' }),
    mailTemplates,
  );
  const schemas = createUserSchemas();
  const codes = createCodeService({ db, key: deriveKey(config.masterKey, 'one-time-codes'), clock });
  // Metrics and the audit log (ADRs 0803, 0804), told about sign-ins and locks.
  const metrics = createMetrics({ cacheStats: () => registry.stats() });
  // An event that queued webhook deliveries wakes this instance's delivery worker (ADR 0809).
  // eslint-disable-next-line prefer-const -- the worker needs the audit service, which needs to wake it
  let webhookWorker!: DeliveryWorker;
  const audit = createAuditService({
    db,
    log,
    onSignIn: metrics.signIn,
    onEvent: metrics.event,
    onWriteFailure: metrics.auditFailed,
    onQueued: () => webhookWorker.wake(),
  });
  const guard = createSignInGuard({ db, clock, recordLock: audit.systemChanges, onLockCommitted: audit.queuedCommitted });
  const users = createUserService({ db, hasher, schemas, codes, guard, mailer, log, publicUrl: config.publicUrl, clock });
  const mailLimits = createMailLimits({ db, clock });
  const onboarding = createOnboardingService({ db, users, codes, guard, hasher, mailer, mailLimits, log, clock, publicUrl: config.publicUrl });
  // Running in production: change notifications between instances (ADR 0801).
  let feed: PoolChangeFeed | undefined;
  const groups = createGroupService({ db });
  const importer = createImportService({ db, hasher, schemas, log });
  const resets = createPasswordResetService({ db, users, codes, guard, hasher, mailer, mailLimits, audit, log, publicUrl: config.publicUrl });
  const connections = createConnectionService({ db, envelope, schemas, publicUrl: config.publicUrl });
  const outgoingFetch = createOutgoingFetch(config.outgoing);
  const federation = createFederationService({
    db,
    envelope,
    schemas,
    connections,
    outgoingFetch,
    publicUrl: config.publicUrl,
    allowHttp: config.env !== 'production',
  });

  // The registry and the services that change what it caches refer to each other:
  // services tell it about changes, it asks the client service for client metadata.
  // eslint-disable-next-line prefer-const -- declared before the registry that reads it lazily, assigned once both exist
  let clients!: ReturnType<typeof createClientService>;
  const registry = createProviderRegistry({
    db,
    envelope,
    artifactKey: deriveKey(config.masterKey, 'artifact-ids'),
    users,
    groups,
    findClient: async (poolId, clientId) =>
      builtInClientMetadata({ poolId, issuer: issuerFor(config.publicUrl, poolId), publicUrl: config.publicUrl }, clientId) ??
      clients.findOidcMetadata(poolId, clientId),
    pages,
    cookieKeys,
    outgoingFetch,
    publicUrl: config.publicUrl,
    trustedProxies: config.trustedProxies,
    cacheSize: config.providerCacheSize,
    checkIntervalMs: config.providerCheckIntervalMs,
    log,
    instrument: (provider, poolId) => {
      metrics.instrumentProvider(provider);
      watchBackchannelDelivery(provider, poolId, { log, audit, count: metrics.backchannelLogout });
      watchGrantRevocations(provider, poolId, { audit });
      watchEndedSessions(provider);
      rememberProviderFault(provider);
    },
    publishChange: (poolId) => feed?.publish(poolId),
  });
  if (database.kind === 'postgres' && database.url) {
    feed = startPoolChangeFeed({
      databaseUrl: database.url,
      log,
      handlers: { changed: (poolId) => registry.forgetPool(poolId), reset: () => registry.forgetAll() },
    });
  }
  clients = createClientService({ db, envelope, listener: registry, checkMetadata: registry.checkClientMetadata.bind(registry), outgoing: config.outgoing });
  webhookWorker = createDeliveryWorker({
    db,
    envelope,
    // Webhook answers are read only up to what the delivery log keeps, then the connection is dropped.
    fetch: createOutgoingFetch(config.outgoing, { maxBodyBytes: RESPONSE_KEPT_BYTES, cutOff: true }),
    timeoutMs: config.outgoing.timeoutMs,
    settings: config.webhooks,
    audit,
    log,
    onDelivery: metrics.webhookDelivery,
    onDisabled: metrics.webhookDisabled,
    // Locks that ran out are released and announced (user.unlocked) by one instance each.
    chores: () => guard.releaseExpiredLocks(),
  });
  const webhooks = createWebhookService({ db, envelope, outgoing: config.outgoing, audit, wake: () => webhookWorker.wake() });
  const pools = createPoolService({ db, envelope, publicUrl: config.publicUrl, listener: registry, userSchemas: schemas });
  const branding = createBrandingService({ db, publicUrl: config.publicUrl, listener: registry });

  const passkeys = createPasskeyService({ db, users, publicUrl: config.publicUrl, secret: deriveKey(config.masterKey, 'passkeys') });

  // Pages and pool APIs Tarn serves itself under /pools/{poolId}, before the provider.
  const csrfKey = deriveKey(config.masterKey, 'csrf');
  const passkeyPages = createPasskeyInteractions({ passkeys, users, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, log, audit });
  const mfa = createMfaService({ db, envelope, guard, clock, recoveryKey: deriveKey(config.masterKey, 'recovery-codes'), codes, mailer, mailLimits });
  const mfaPages = createMfaInteractions({ mfa, users, passkeys, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, audit });
  const hosted = createInteractionRouter({
    users,
    pages,
    csrfKey,
    bodyLimitBytes: config.bodyLimitBytes,
    audit,
    passkeys: passkeyPages,
    mfa: mfaPages,
    passwordChange: createPasswordChangeInteractions({ users, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, audit }),
    connections,
  });
  registerRegistrationRoutes(hosted, { onboarding, schemas, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, audit });
  registerEmailCodeRoutes(hosted, { onboarding, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, passkeys: passkeyPages, audit, mfa: mfaPages });
  registerConnectionRoutes(hosted, {
    federation,
    users,
    mfa,
    passkeys,
    pages,
    csrfKey,
    bodyLimitBytes: config.bodyLimitBytes,
    publicUrl: config.publicUrl,
    audit,
  });
  registerActivationRoutes(hosted, { onboarding, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes, passkeys: passkeyPages, audit });
  registerPasswordResetRoutes(hosted, { resets, pages, csrfKey, bodyLimitBytes: config.bodyLimitBytes });
  // The account page: a relying party of its own pool through the built-in client (ADR 0306).
  registerAccountRoutes(hosted, {
    account: createAccountService({ db, users, hasher, codes, guard, mailer, mailLimits, log, artifactKey: deriveKey(config.masterKey, 'artifact-ids') }),
    users,
    schemas,
    mfa,
    passkeys,
    cookies: createAccountCookies(envelope, clock),
    pages,
    csrfKey,
    bodyLimitBytes: config.bodyLimitBytes,
    publicUrl: config.publicUrl,
    log,
    clock,
    audit,
  });
  registerBrandAssetRoutes(hosted, { branding });
  // The signed-in user's APIs: every route behind the one access-token check (resource-routes.ts).
  const resources = createResourceRoutes({ users });
  registerMeRoutes(resources, { users, bodyLimitBytes: config.bodyLimitBytes, audit });
  registerMyPasskeyRoutes(resources, { passkeys, bodyLimitBytes: config.bodyLimitBytes });
  const errorPages = createErrorPages({ pages, log });

  const administrators = createAdministrators({ db, publicUrl: config.publicUrl, findActiveUser: users.findActiveUser });
  const admin = createAdminRouter({
    adminToken: config.adminToken,
    administrators,
    db,
    bodyLimitBytes: config.bodyLimitBytes,
    pools,
    clients,
    users,
    groups,
    audit,
    passkeys,
    importer,
    invitations: createInvitationService({ db, users, mailLimits, clock }),
    resets,
    sessions: createSessionService({ db, users }),
    connections,
    mfa,
    branding,
    mailTemplates,
    webhooks,
  });
  const health = createHealthRouter(database);
  // The console (ADR 1000): pages over the admin API, called in process with the administrator's token.
  const consoleSetup = createConsoleSetup({ db, pools, users, publicUrl: config.publicUrl, log, clock });
  const adminApi = compose([
    auditAdminActions(audit, admin),
    admin.routes(),
    admin.allowedMethods({ throw: true, methodNotAllowed: () => problems.methodNotAllowed(), notImplemented: () => problems.methodNotAllowed() }),
  ]) as Middleware;
  const consoleRouter = createConsoleRouter({
    publicUrl: config.publicUrl,
    csrfKey: deriveKey(config.masterKey, 'console-csrf'),
    bodyLimitBytes: config.bodyLimitBytes,
    pages,
    administrators,
    setup: consoleSetup,
    callAdmin: createAdminDispatcher(() => app, adminApi, log),
  });
  registerPostToGetRoutes(hosted, { pages, bodyLimitBytes: config.bodyLimitBytes, callProvider }); // OIDC Core §3.1.2.1: POST at /auth (ADR 0601, 0602)

  // Koa reads X-Forwarded-For from the right: of its last `maxIpsCount` entries (the ones
  // the trusted proxies appended) the first is the client address. Entries further left are
  // whatever the client sent, never believed.
  const app = new Koa({ proxy: config.trustedProxies > 0, maxIpsCount: config.trustedProxies, keys: cookieKeys });
  const window = config.rateLimitWindowMs;
  // Headers, failure limits, errors as problem documents, request log and metrics: one layer (request-frame.ts).
  const limiters = [
    failureLimiter({
      name: 'token',
      limit: config.rateLimitTokenFailures,
      windowMs: window,
      applies: (ctx, path) => ctx.method === 'POST' && /^\/pools\/[^/]+\/token(\/|$)/.test(path),
      failed: (status) => status === 400 || status === 401,
      onLimited: metrics.rateLimited,
    }),
    // The one per-IP sign-in limit: every failed step of a hosted sign-in (password, emailed
    // code, registration code) answers 401 and counts here, as do the account page's wrong
    // current password, authenticator code and email code.
    failureLimiter({
      name: 'login',
      limit: config.rateLimitLoginFailures,
      windowMs: config.rateLimitLoginWindowMs,
      applies: (ctx, path) => ctx.method === 'POST' && /^\/pools\/[^/]+\/(?:interaction|account)\//.test(path),
      failed: (status) => status === 401,
      onLimited: metrics.rateLimited,
      refuse: (ctx, retryAfterSeconds) => {
        const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
        return errorPages.render(ctx, 429, 'tooManyAttempts', { until: new Date(Date.now() + minutes * 60_000) });
      },
    }),
    failureLimiter({
      name: 'admin',
      limit: config.rateLimitAdminFailures,
      windowMs: window,
      applies: (_ctx, path) => path.startsWith('/admin/') && path !== '/admin/openapi.json',
      failed: (status) => status === 401,
      onLimited: metrics.rateLimited,
    }),
  ];
  const traffic: Traffic = { inFlight: 0, draining: false };
  // A request still arriving after REQUEST_TIMEOUT_MS is cut (408), unless its route exempted it.
  const deadline = requestDeadline(config.requestTimeoutMs);
  app.use(deadline.middleware);
  app.use(requestFrame({ log, metrics, limiters, traffic, naming: { adminRoute: (path, method) => matchAdminRoute(admin, path, method)?.template } }));
  // Pool traffic (the hot path) first: it never reaches the routers below, whose route
  // matching it would otherwise pay on every request (ADR 0701). Nothing else lives under /pools/.
  app.use(poolGateway({ registry, hosted, resources: resources.router, errorPages, afterSessionEnded: createUpstreamLogout(federation, log) }));
  app.use(staticAssets());
  app.use(health.routes());
  app.use(serveMetrics(metrics, config.metrics));
  app.use(consoleErrors(errorPages));
  app.use(consoleRouter.routes());
  app.use(adminApi);

  // Koa's default handler would print stacks to stderr; errors are logged where they are handled.
  app.silent = true;

  return {
    app,
    registry,
    metrics,
    services: { pools, clients, users, groups, onboarding, audit, passkeys, webhooks, guard },
    /** Sends the pools' webhooks; main.ts starts it with the server, close() stops it. */
    webhookWorker,
    /** The admin pool and the first-run link (main.ts prints it). */
    console: consoleSetup,
    /** Requests in flight, and the switch that makes every later answer close its connection. */
    traffic,
    /** Stops what the app runs besides requests (the delivery worker, the change listener); the database stays open. */
    async close(): Promise<void> {
      deadline.stop();
      await webhookWorker.stop();
      await feed?.close();
    },
  };
}

export type TarnApp = ReturnType<typeof createApp>;
