/**
 * The admin REST API under /admin: JSON in and out, RFC 9457 problems on every mistake.
 * Each domain declares its routes (http/guard.ts); this file mounts them:
 *   /admin/...               authentication, then the routes that are not about one pool;
 *   /admin/pools/{pool}/...  the pool router: `:pool` is authorized and loaded once, onto
 *                            ctx.state.pool, before any of its routes runs (pool-scope.ts).
 */
import Router from '@koa/router';
import { auditRoutes } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import { brandingRoutes } from '../branding/branding.routes.js';
import type { BrandingService } from '../branding/branding.service.js';
import { mailTemplateRoutes } from '../mail/mail-templates.routes.js';
import type { MailTemplateService } from '../mail/mail-templates.service.js';
import { clientRoutes } from '../clients/clients.routes.js';
import type { ClientService } from '../clients/clients.service.js';
import { connectionRoutes } from '../connections/connections.routes.js';
import type { ConnectionService } from '../connections/connections.service.js';
import { groupRoutes } from '../groups/groups.routes.js';
import type { GroupService } from '../groups/groups.service.js';
import { readJson } from '../http/body.js';
import { parseInput } from '../http/validation.js';
import { z } from 'zod';
import type { GuardedRoute, GuardOptions } from '../http/guard.js';
import { factorRoutes } from '../mfa/factors.routes.js';
import type { MfaService } from '../mfa/mfa.service.js';
import { passkeyRoutes } from '../passkeys/passkeys.routes.js';
import type { PasskeyService } from '../passkeys/passkeys.service.js';
import { poolCollectionRoutes, poolRoutes } from '../pools/pools.routes.js';
import type { PoolService } from '../pools/pools.service.js';
import { userImportRoutes } from '../users/import/import.routes.js';
import { invitationRoutes } from '../users/invitations.routes.js';
import type { InvitationService } from '../users/invitations.service.js';
import type { ImportService } from '../users/import/import.service.js';
import { userRoutes } from '../users/users.routes.js';
import { passwordResetRoutes } from '../users/password-reset.routes.js';
import { sessionRoutes } from '../users/sessions.routes.js';
import type { SessionService } from '../users/sessions.service.js';
import type { PasswordResetService } from '../users/password-reset.service.js';
import type { UserService } from '../users/users.service.js';
import { webhookRoutes } from '../webhooks/webhooks.routes.js';
import type { WebhookService } from '../webhooks/webhooks.service.js';
import { adminAuth, requireAdmin, type AdminState } from './admin-auth.js';
import { buildOpenApiDocument } from './openapi.js';
import type { Administrators } from '../console/administrators.js';
import { administratorRoutes } from '../console/administrators.routes.js';
import type { Db } from '../db/database.js';
import { resolvePool, type PoolState } from './pool-scope.js';

interface AdminRouterDeps {
  adminToken: string;
  /** Console access tokens (ADR 1000). */
  administrators?: Administrators;
  db?: Db;
  bodyLimitBytes: number;
  pools: PoolService;
  clients: ClientService;
  users: UserService;
  audit?: AuditService;
  passkeys: PasskeyService;
  groups: GroupService;
  importer: ImportService;
  invitations: InvitationService;
  resets: PasswordResetService;
  sessions: SessionService;
  connections: ConnectionService;
  mfa: MfaService;
  branding: BrandingService;
  mailTemplates: MailTemplateService;
  webhooks?: WebhookService;
}

const noQuery = z.object({}).strict();

function mount<StateT>(router: Router<StateT>, routes: GuardedRoute<StateT>[], options: GuardOptions<StateT>): void {
  for (const route of routes) router[route.spec.method](route.name, route.spec.path, route.middleware(options));
}

export function createAdminRouter(deps: AdminRouterDeps): Router<AdminState> {
  const adminLevel = poolCollectionRoutes(deps.pools);
  const poolLevel = [
    ...poolRoutes(deps.pools),
    ...clientRoutes(deps.clients),
    ...userImportRoutes(deps.importer, deps.audit), // before userRoutes: /users/import is not /users/:userId
    ...invitationRoutes(deps.invitations), // before userRoutes, like the import
    ...userRoutes(deps.users),
    ...passwordResetRoutes(deps.resets),
    ...sessionRoutes(deps.sessions),
    ...(deps.audit ? auditRoutes(deps.audit) : []),
    ...passkeyRoutes(deps.passkeys),
    ...factorRoutes(deps.mfa, deps.users),
    ...groupRoutes(deps.groups),
    ...connectionRoutes(deps.connections),
    ...brandingRoutes(deps.branding),
    ...mailTemplateRoutes(deps.mailTemplates),
    ...(deps.webhooks ? webhookRoutes(deps.webhooks) : []),
    ...(deps.db
      ? administratorRoutes({
          db: deps.db,
          users: deps.users,
          poolExists: (poolId) =>
            deps.pools.getPoolRow(poolId).then(
              () => true,
              () => false,
            ),
        })
      : []),
  ];
  // Built by the first request for it: a few MiB that an instance nobody asks need not hold.
  let openApiDocument: ReturnType<typeof buildOpenApiDocument> | undefined;
  const options: GuardOptions<AdminState> = {
    readJson: (ctx, limitBytes) => readJson(ctx, Math.max(limitBytes ?? 0, deps.bodyLimitBytes)),
    authorize: requireAdmin,
  };

  const router = new Router<AdminState>({ prefix: '/admin' });
  router.get('/openapi.json', function serveOpenApi(ctx) {
    parseInput(noQuery, ctx.query, 'query');
    ctx.body = openApiDocument ??= buildOpenApiDocument({ admin: adminLevel, pool: poolLevel });
  });
  router.use(
    adminAuth({
      adminToken: deps.adminToken,
      authenticateSecret: deps.pools.authenticateSecret,
      authenticateAdministrator: deps.administrators?.verifyAccessToken,
    }),
  );
  mount<AdminState>(router, adminLevel, options);

  const poolRouter = new Router<PoolState>({ prefix: '/pools/:pool' });
  poolRouter.param('pool', resolvePool(deps.pools.getPoolRow));
  mount<PoolState>(poolRouter, poolLevel, options);
  router.use(poolRouter.routes());
  return router;
}
