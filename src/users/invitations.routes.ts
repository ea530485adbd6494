/** POST /admin/pools/{pool}/users/invitations: invitations in bulk, answered with a report (invitations.service.ts). */
import { annotateAudit } from '../audit/audit.middleware.js';
import { poolRoute } from '../admin/pool-scope.js';
import { bulkInvitationResponse, bulkInvitationSchema } from './invitations.schemas.js';
import type { InvitationService } from './invitations.service.js';

export function invitationRoutes(invitations: InvitationService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/users/invitations',
        summary: 'Send invitations in bulk: to the users listed, or to every user of status "new" without a live invitation',
        description: 'At most 1,000 a request, each within the per-address mail limits. The report lists what was sent and what was skipped, with the reason.',
        body: bulkInvitationSchema,
        status: 200,
        response: bulkInvitationResponse,
      },
      async function inviteUsers(ctx, { body }) {
        const report = await invitations.inviteMany(ctx.state.pool, body);
        const reasons: Record<string, number> = {};
        for (const item of report.skipped) reasons[item.reason] = (reasons[item.reason] ?? 0) + 1;
        annotateAudit(ctx, {
          target: { type: 'pool', id: ctx.state.pool.id },
          details: { selection: body.userIds ? 'userIds' : 'status_new', sent: report.sent.length, skipped: report.skipped.length, skippedByReason: reasons },
        });
        return report;
      },
    ),
  ];
}
