/** /admin/pools/{pool}/users/{id}/sessions: a user's sign-in sessions, listed and ended. */
import { z } from 'zod';
import { poolRoute } from '../admin/pool-scope.js';
import { changeRecorder } from '../audit/audit.middleware.js';
import { timestamp } from '../http/guard.js';
import type { SessionService } from './sessions.service.js';

const userIdParams = z.object({ userId: z.string() });
const sessionParams = z.object({ userId: z.string(), sessionId: z.string() });
const sessionResponse = z.object({
  id: z.string(),
  createdAt: timestamp.nullable().describe('When the user signed in.'),
  expiresAt: timestamp.nullable(),
  clients: z.array(z.string()).describe('Client ids of the applications signed in through this session.'),
});
const sessionListResponse = z.object({ items: z.array(sessionResponse) });

export function sessionRoutes(sessions: SessionService) {
  return [
    poolRoute(
      {
        method: 'get',
        path: '/users/:userId/sessions',
        summary: "List the user's sign-in sessions",
        params: userIdParams,
        status: 200,
        response: sessionListResponse,
      },
      async function listSessions(ctx, { params }) {
        return sessions.listSessions(ctx.state.pool.id, params.userId);
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/users/:userId/sessions',
        summary: 'Sign the user out everywhere (every session, grant and token)',
        params: userIdParams,
        status: 204,
      },
      async function deleteAllSessions(ctx, { params }) {
        await sessions.deleteAllSessions(ctx.state.pool.id, params.userId, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/users/:userId/sessions/:sessionId', summary: 'End one session of the user', params: sessionParams, status: 204 },
      async function deleteSession(ctx, { params }) {
        await sessions.deleteSession(ctx.state.pool.id, params.userId, params.sessionId, changeRecorder(ctx, 204));
      },
    ),
  ];
}
