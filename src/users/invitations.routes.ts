/** POST /admin/pools/{pool}/users/invitations: invitations in bulk, answered with a report (invitations.service.ts). */
import { changeRecorder } from '../audit/audit.middleware.js';
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
        return invitations.inviteMany(ctx.state.pool, body, changeRecorder(ctx, 200));
      },
    ),
  ];
}
