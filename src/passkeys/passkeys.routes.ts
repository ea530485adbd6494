/** /admin/pools/{pool}/users/{userId}/passkeys: an admin lists and removes a user's passkeys. */
import { z } from 'zod';
import { changeRecorder } from '../audit/audit.middleware.js';
import { poolRoute } from '../admin/pool-scope.js';
import { pageOf, pageQuery } from '../http/pagination.js';
import { userIdParams } from '../users/users.schemas.js';
import { passkeyParams, passkeyResponse } from './passkeys.schemas.js';
import type { PasskeyService } from './passkeys.service.js';

export function passkeyRoutes(passkeys: PasskeyService) {
  return [
    poolRoute(
      {
        method: 'get',
        path: '/users/:userId/passkeys',
        summary: "List a user's passkeys",
        params: userIdParams,
        query: z.object(pageQuery).strict(),
        status: 200,
        response: pageOf(passkeyResponse),
      },
      async function listUserPasskeys(ctx, { params, query }) {
        return passkeys.listUserPasskeys(ctx.state.pool.id, params.userId, query);
      },
    ),
    poolRoute(
      { method: 'delete', path: '/users/:userId/passkeys/:passkeyId', summary: "Delete a user's passkey", params: passkeyParams, status: 204 },
      async function deleteUserPasskey(ctx, { params }) {
        await passkeys.deleteUserPasskey(ctx.state.pool.id, params.userId, params.passkeyId, changeRecorder(ctx, 204));
      },
    ),
  ];
}
