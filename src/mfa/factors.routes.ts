/**
 * /admin/pools/{pool}/users/{userId}/factors: an admin lists a user's second factors and
 * removes one (a lost phone). Removing the app removes its recovery codes too, with its
 * `users.factors.delete` event in one transaction.
 */
import { z } from 'zod';
import { poolRoute } from '../admin/pool-scope.js';
import { changeRecorder } from '../audit/audit.middleware.js';
import { timestamp } from '../http/guard.js';
import type { UserService } from '../users/users.service.js';
import { userIdParams } from '../users/users.schemas.js';
import type { MfaService } from './mfa.service.js';

const factorParams = z.object({ userId: z.string(), factorId: z.string() });

const factorResponse = z.object({
  id: z.string().describe('"totp" (authenticator app) or "recovery_codes".'),
  type: z.enum(['totp', 'recovery_codes']),
  createdAt: timestamp,
  remaining: z.number().int().optional().describe('Unused recovery codes.'),
});

export function factorRoutes(mfa: MfaService, users: UserService) {
  return [
    poolRoute(
      {
        method: 'get',
        path: '/users/:userId/factors',
        summary: "List a user's second factors",
        params: userIdParams,
        status: 200,
        response: z.object({ items: z.array(factorResponse) }),
      },
      async function listUserFactors(ctx, { params }) {
        await users.getUser(ctx.state.pool.id, params.userId);
        return { items: await mfa.listFactors(ctx.state.pool.id, params.userId) };
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/users/:userId/factors/:factorId',
        summary: "Remove a user's second factor (the app also removes its recovery codes)",
        params: factorParams,
        status: 204,
      },
      async function removeUserFactor(ctx, { params }) {
        await users.getUser(ctx.state.pool.id, params.userId);
        await mfa.removeFactor(ctx.state.pool.id, params.userId, params.factorId, changeRecorder(ctx, 204));
      },
    ),
  ];
}
