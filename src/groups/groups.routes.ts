/**
 * /admin/pools/{pool}/groups: groups, their members, and a user's groups
 * (/admin/pools/{pool}/users/{userId}/groups). Membership is PUT/DELETE on the pair,
 * both idempotent, both answering 204.
 */
import { changeRecorder } from '../audit/audit.middleware.js';
import { poolRoute } from '../admin/pool-scope.js';
import { pageOf } from '../http/pagination.js';
import { userIdParams } from '../users/users.schemas.js';
import {
  createGroupSchema,
  deleteGroupQuery,
  groupIdParams,
  groupResponse,
  listGroupsQuery,
  listMembersQuery,
  memberParams,
  memberResponse,
  updateGroupSchema,
  userGroupResponse,
  userGroupsQuery,
} from './groups.schemas.js';
import type { GroupService } from './groups.service.js';

export function groupRoutes(groups: GroupService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/groups',
        summary: 'Create a group (name unique in the pool, case-insensitively; parentId nests it)',
        body: createGroupSchema,
        status: 201,
        response: groupResponse,
        problems: [409],
      },
      async function createGroup(ctx, { body }) {
        const created = await groups.createGroup(ctx.state.pool.id, body, changeRecorder(ctx, 201));
        ctx.set('Location', `/admin/pools/${ctx.state.pool.id}/groups/${created.id}`);
        return created;
      },
    ),
    poolRoute(
      { method: 'get', path: '/groups', summary: 'List groups by name', query: listGroupsQuery, status: 200, response: pageOf(groupResponse) },
      async function listGroups(ctx, { query }) {
        return groups.listGroups(ctx.state.pool.id, query);
      },
    ),
    poolRoute(
      { method: 'get', path: '/groups/:groupId', summary: 'Get a group', params: groupIdParams, status: 200, response: groupResponse },
      async function getGroup(ctx, { params }) {
        return groups.getGroup(ctx.state.pool.id, params.groupId);
      },
    ),
    poolRoute(
      {
        method: 'patch',
        path: '/groups/:groupId',
        summary: 'Rename, describe or move a group (parentId null: a root); a move that makes a cycle is 409',
        params: groupIdParams,
        body: updateGroupSchema,
        status: 200,
        response: groupResponse,
        problems: [409],
      },
      async function updateGroup(ctx, { params, body }) {
        return groups.updateGroup(ctx.state.pool.id, params.groupId, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/groups/:groupId',
        summary: 'Delete a group; one with child groups only with cascade=true, which deletes the whole subtree',
        params: groupIdParams,
        query: deleteGroupQuery,
        status: 204,
        problems: [409],
      },
      async function deleteGroup(ctx, { params, query }) {
        await groups.deleteGroup(ctx.state.pool.id, params.groupId, query, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/groups/:groupId/members',
        summary: 'Members of a group; nested=true adds the members of every group below it (`direct` tells which)',
        params: groupIdParams,
        query: listMembersQuery,
        status: 200,
        response: pageOf(memberResponse),
      },
      async function listMembers(ctx, { params, query }) {
        return groups.listMembers(ctx.state.pool.id, params.groupId, query);
      },
    ),
    poolRoute(
      {
        method: 'put',
        path: '/groups/:groupId/members/:userId',
        summary: 'Add a user of the pool to the group (idempotent)',
        params: memberParams,
        status: 204,
      },
      async function addMember(ctx, { params }) {
        await groups.addMember(ctx.state.pool.id, params.groupId, params.userId, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/groups/:groupId/members/:userId', summary: 'Remove a user from the group (idempotent)', params: memberParams, status: 204 },
      async function removeMember(ctx, { params }) {
        await groups.removeMember(ctx.state.pool.id, params.groupId, params.userId, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/users/:userId/groups',
        summary: "A user's groups, direct and inherited through nesting (`direct` tells which), by name",
        params: userIdParams,
        query: userGroupsQuery,
        status: 200,
        response: pageOf(userGroupResponse),
      },
      async function listUserGroups(ctx, { params, query }) {
        return groups.listUserGroups(ctx.state.pool.id, params.userId, query);
      },
    ),
  ];
}
