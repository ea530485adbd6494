/** GET /admin/pools/{pool}/audit: the pool's audit log, newest first, filtered and paged. */
import type Router from '@koa/router';
import { authorizedPool } from '../admin/admin-auth.js';
import type { AuditService } from './audit.service.js';

export function registerAuditRoutes(router: Router, audit: AuditService): void {
  router.get('/pools/:pool/audit', async function listAuditEvents(ctx) {
    ctx.body = await audit.listAuditEvents(authorizedPool(ctx, ctx.params.pool!), ctx.query);
  });
}
