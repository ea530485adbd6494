/**
 * /admin/pools/{pool}/groups: groups, their members, and a user's groups
 * (/admin/pools/{pool}/users/{userId}/groups). Membership is PUT/DELETE on the pair,
 * both idempotent, both answering 204.
 */
import type Router from '@koa/router';
import { authorizedPool } from '../admin/admin-auth.js';
import type { JsonBody } from '../admin/admin.router.js';
import { parseInput } from '../http/validation.js';
import { createGroupSchema, updateGroupSchema } from './groups.schemas.js';
import type { GroupService } from './groups.service.js';

export function registerGroupRoutes(router: Router, groups: GroupService, body: JsonBody): void {
  router.post('/pools/:pool/groups', async function createGroup(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    const created = await groups.createGroup(poolId, parseInput(createGroupSchema, await body(ctx)));
    ctx.status = 201;
    ctx.set('Location', `/admin/pools/${poolId}/groups/${created.id}`);
    ctx.body = created;
  });

  router.get('/pools/:pool/groups', async function listGroups(ctx) {
    ctx.body = await groups.listGroups(authorizedPool(ctx, ctx.params.pool!), ctx.query);
  });

  router.get('/pools/:pool/groups/:groupId', async function getGroup(ctx) {
    ctx.body = await groups.getGroup(authorizedPool(ctx, ctx.params.pool!), ctx.params.groupId!);
  });

  router.patch('/pools/:pool/groups/:groupId', async function updateGroup(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    ctx.body = await groups.updateGroup(poolId, ctx.params.groupId!, parseInput(updateGroupSchema, await body(ctx)));
  });

  router.delete('/pools/:pool/groups/:groupId', async function deleteGroup(ctx) {
    await groups.deleteGroup(authorizedPool(ctx, ctx.params.pool!), ctx.params.groupId!, ctx.query);
    ctx.status = 204;
  });

  router.get('/pools/:pool/groups/:groupId/members', async function listMembers(ctx) {
    ctx.body = await groups.listMembers(authorizedPool(ctx, ctx.params.pool!), ctx.params.groupId!, ctx.query);
  });

  router.put('/pools/:pool/groups/:groupId/members/:userId', async function addMember(ctx) {
    await groups.addMember(authorizedPool(ctx, ctx.params.pool!), ctx.params.groupId!, ctx.params.userId!);
    ctx.status = 204;
  });

  router.delete('/pools/:pool/groups/:groupId/members/:userId', async function removeMember(ctx) {
    await groups.removeMember(authorizedPool(ctx, ctx.params.pool!), ctx.params.groupId!, ctx.params.userId!);
    ctx.status = 204;
  });

  router.get('/pools/:pool/users/:userId/groups', async function listUserGroups(ctx) {
    ctx.body = await groups.listUserGroups(authorizedPool(ctx, ctx.params.pool!), ctx.params.userId!, ctx.query);
  });
}
