/** /admin/pools/{pool}/users: users of a pool, their invitations and lockouts. */
import { changeRecorder } from '../audit/audit.middleware.js';
import { poolRoute } from '../admin/pool-scope.js';
import {
  createdUserResponse,
  createUserSchema,
  invitationResponse,
  listUsersQuery,
  lockoutResponse,
  updateUserSchema,
  userIdParams,
  userWithLockoutResponse,
  userPageResponse,
} from './users.schemas.js';
import type { UserService } from './users.service.js';

export function userRoutes(users: UserService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/users',
        summary: 'Create a user: mode "password" (active at once) or "invite" (status new, activation mail)',
        body: createUserSchema,
        status: 201,
        response: createdUserResponse,
        problems: [409, 503],
      },
      async function createUser(ctx, { body }) {
        const created = await users.createUser(ctx.state.pool, body, changeRecorder(ctx, 201));
        ctx.set('Location', `/admin/pools/${ctx.state.pool.id}/users/${created.id}`);
        return created;
      },
    ),
    poolRoute(
      { method: 'get', path: '/users', summary: 'List and search users', query: listUsersQuery, status: 200, response: userPageResponse },
      async function listUsers(ctx, { query }) {
        return users.listUsers(ctx.state.pool.id, query);
      },
    ),
    poolRoute(
      { method: 'get', path: '/users/:userId', summary: 'Get a user', params: userIdParams, status: 200, response: userWithLockoutResponse },
      async function getUser(ctx, { params }) {
        return users.getUser(ctx.state.pool.id, params.userId);
      },
    ),
    poolRoute(
      {
        method: 'patch',
        path: '/users/:userId',
        summary: 'Change a user',
        params: userIdParams,
        body: updateUserSchema,
        status: 200,
        response: userWithLockoutResponse,
        problems: [409],
      },
      async function updateUser(ctx, { params, body }) {
        // One event per thing that changed (user.disabled, user.email_changed, …), in the change's transaction.
        return users.updateUser(ctx.state.pool, params.userId, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/users/:userId/invitation',
        summary: 'Send the invitation again (a new link and code; the previous ones stop working)',
        params: userIdParams,
        status: 202,
        response: invitationResponse,
        problems: [409, 503],
      },
      async function resendInvitation(ctx, { params }) {
        return users.resendInvitation(ctx.state.pool, params.userId, changeRecorder(ctx, 202));
      },
    ),
    poolRoute(
      { method: 'get', path: '/users/:userId/lockout', summary: "The user's sign-in lockout", params: userIdParams, status: 200, response: lockoutResponse },
      async function getLockout(ctx, { params }) {
        return users.getLockout(ctx.state.pool.id, params.userId);
      },
    ),
    poolRoute(
      { method: 'delete', path: '/users/:userId/lockout', summary: 'Clear the lockout', params: userIdParams, status: 204 },
      async function clearLockout(ctx, { params }) {
        await users.clearLockout(ctx.state.pool.id, params.userId, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/users/:userId', summary: 'Delete a user (ends their sessions and tokens)', params: userIdParams, status: 204 },
      async function deleteUser(ctx, { params }) {
        await users.deleteUser(ctx.state.pool.id, params.userId, changeRecorder(ctx, 204));
      },
    ),
  ];
}
