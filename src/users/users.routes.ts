/** /admin/pools/{pool}/users: users of a pool, their invitations and lockouts. */
import type Router from '@koa/router';
import { authorizedPool } from '../admin/admin-auth.js';
import type { JsonBody } from '../admin/admin.router.js';
import { parseInput } from '../http/validation.js';
import { createUserSchema, updateUserSchema } from './users.schemas.js';
import type { UserService } from './users.service.js';

export function registerUserRoutes(router: Router, users: UserService, body: JsonBody): void {
  router.post('/pools/:pool/users', async function createUser(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    const created = await users.createUser(poolId, parseInput(createUserSchema, await body(ctx)));
    ctx.status = 201;
    ctx.set('Location', `/admin/pools/${poolId}/users/${created.id}`);
    ctx.body = created;
  });

  router.get('/pools/:pool/users', async function listUsers(ctx) {
    ctx.body = await users.listUsers(authorizedPool(ctx, ctx.params.pool!), ctx.query);
  });

  router.get('/pools/:pool/users/:userId', async function getUser(ctx) {
    ctx.body = await users.getUser(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!);
  });

  router.patch('/pools/:pool/users/:userId', async function updateUser(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    ctx.body = await users.updateUser(poolId, ctx.params.userId!, parseInput(updateUserSchema, await body(ctx)));
  });

  router.post('/pools/:pool/users/:userId/invitation', async function resendInvitation(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    ctx.status = 202;
    ctx.body = await users.resendInvitation(poolId, ctx.params.userId!);
  });

  router.get('/pools/:pool/users/:userId/lockout', async function getLockout(ctx) {
    ctx.body = await users.getLockout(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!);
  });

  router.delete('/pools/:pool/users/:userId/lockout', async function clearLockout(ctx) {
    await users.clearLockout(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!);
    ctx.status = 204;
  });

  router.delete('/pools/:pool/users/:userId', async function deleteUser(ctx) {
    await users.deleteUser(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!);
    ctx.status = 204;
  });
}
