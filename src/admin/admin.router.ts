/**
 * The admin REST API under /admin: JSON in and out, RFC 9457 problems on every mistake.
 * Each domain registers its routes; this file only wires authentication and body parsing.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { registerAuditRoutes } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ClientService } from '../clients/clients.service.js';
import { registerClientRoutes } from '../clients/clients.routes.js';
import type { GroupService } from '../groups/groups.service.js';
import { registerGroupRoutes } from '../groups/groups.routes.js';
import { readJson } from '../http/body.js';
import { registerPasskeyRoutes } from '../passkeys/passkeys.routes.js';
import type { PasskeyService } from '../passkeys/passkeys.service.js';
import type { PoolService } from '../pools/pools.service.js';
import { registerPoolRoutes } from '../pools/pools.routes.js';
import type { UserService } from '../users/users.service.js';
import { registerUserRoutes } from '../users/users.routes.js';
import { registerUserImportRoutes } from '../users/import/import.routes.js';
import type { ImportService } from '../users/import/import.service.js';
import { adminAuth } from './admin-auth.js';
import { openApiDocument } from './openapi.js';

export type JsonBody = (ctx: Context) => Promise<unknown>;

export interface AdminRouterDeps {
  adminToken: string;
  bodyLimitBytes: number;
  pools: PoolService;
  clients: ClientService;
  users: UserService;
  audit?: AuditService;
  passkeys: PasskeyService;
  groups: GroupService;
  importer: ImportService;
}

export function createAdminRouter(deps: AdminRouterDeps): Router {
  const router = new Router({ prefix: '/admin' });
  const body: JsonBody = (ctx) => readJson(ctx, deps.bodyLimitBytes);

  router.get('/openapi.json', function serveOpenApi(ctx) {
    ctx.body = openApiDocument;
  });

  router.use(adminAuth({ adminToken: deps.adminToken, authenticateSecret: deps.pools.authenticateSecret }));
  registerPoolRoutes(router, deps.pools, body);
  registerClientRoutes(router, deps.clients, body);
  registerUserImportRoutes(router, deps.importer, deps.audit); // before users/:userId
  registerUserRoutes(router, deps.users, body);
  if (deps.audit) registerAuditRoutes(router, deps.audit);
  registerPasskeyRoutes(router, deps.passkeys);
  registerGroupRoutes(router, deps.groups, body);
  return router;
}
