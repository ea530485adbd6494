/** GET /admin/pools/{pool}/audit: the pool's audit log, newest first, filtered and paged. */
import { poolRoute } from '../admin/pool-scope.js';
import { pageOf } from '../http/pagination.js';
import { auditEventResponse, auditQuery } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';

export function auditRoutes(audit: AuditService) {
  return [
    poolRoute(
      {
        method: 'get',
        path: '/audit',
        summary: "The pool's audit log, newest first: admin actions and security events",
        query: auditQuery,
        status: 200,
        response: pageOf(auditEventResponse),
      },
      async function listAuditEvents(ctx, { query }) {
        return audit.listAuditEvents(ctx.state.pool.id, query);
      },
    ),
  ];
}
