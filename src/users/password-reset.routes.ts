/** /admin/pools/{pool}/users/{id}/password-reset: the admin sends the "reset your password" mail. */
import { changeRecorder } from '../audit/audit.middleware.js';
import { poolRoute } from '../admin/pool-scope.js';
import { invitationResponse, userIdParams } from './users.schemas.js';
import type { PasswordResetService } from './password-reset.service.js';

export function passwordResetRoutes(resets: PasswordResetService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/users/:userId/password-reset',
        summary: 'Mail the user a password reset code and link (10 minutes, single use; earlier ones stop working). Not for disabled users.',
        params: userIdParams,
        status: 202,
        response: invitationResponse,
        problems: [409, 503],
      },
      async function sendPasswordReset(ctx, { params }) {
        return resets.sendResetByAdmin(ctx.state.pool, params.userId, changeRecorder(ctx, 202));
      },
    ),
  ];
}
