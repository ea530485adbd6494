/**
 * Groups of a pool (docs/design.md#groups; ADR 0200).
 * - A name is unique in the pool, case-insensitively (409 naming `name`).
 * - A parent is a group of the same pool; any other id is 404 naming `parentId`.
 * - A move that would make a group its own ancestor is refused (409 naming `parentId`);
 *   moves run under the pool's tree lock, so two concurrent moves cannot close a loop.
 * - A group with child groups is deleted only with `cascade` (the whole subtree goes);
 *   otherwise 409. Memberships go with their group, their user and their pool.
 * - Only users of the pool can be members; adding and removing are idempotent.
 * - Nested queries run in SQL (recursive CTEs), paginated by cursor.
 */
import { randomUUID } from 'node:crypto';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/errors.js';
import type { GroupRow, UserRow } from '../db/tables.js';
import { isUuid } from '../http/ids.js';
import { toPage, type PageQuery } from '../http/pagination.js';
import { AppError, fieldError, problems } from '../http/problem.js';
import { createUserQueries } from '../users/users.queries.js';
import { toUserResponse } from '../users/users.service.js';
import { createGroupQueries, type GroupChange, type GroupQueries, type UserGroupRow } from './groups.queries.js';
import type { CreateGroupInput, DeleteGroupQuery, ListGroupsQuery, ListMembersQuery, UpdateGroupInput } from './groups.schemas.js';

export function toGroupResponse(row: GroupRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    parentId: row.parent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const toUserGroupResponse = (row: UserGroupRow) => ({ ...toGroupResponse(row), direct: row.direct });
const toMemberResponse = (row: UserRow & { direct: boolean }) => ({ ...toUserResponse(row), direct: row.direct });

const groupNotFound = () => problems.notFound('Group');
const parentNotFound = () =>
  new AppError({
    status: 404,
    type: 'not-found',
    title: 'Parent group not found',
    detail: 'The parent group does not exist in this pool.',
    errors: [fieldError('parentId', 'No such group in this pool.')],
  });

function cycle(group: GroupRow, parent: GroupRow): AppError {
  const detail =
    group.id === parent.id
      ? `The group "${group.name}" cannot be its own parent.`
      : `"${parent.name}" is inside "${group.name}": making it the parent of "${group.name}" would make a cycle.`;
  return new AppError({
    status: 409,
    type: 'group-cycle',
    title: 'The move would make a cycle',
    detail,
    errors: [fieldError('parentId', 'Must not be the group itself or one of its descendants.')],
  });
}

function nameTaken(error: unknown): never {
  if (isUniqueViolation(error)) throw problems.conflict('A group with this name already exists in the pool.', [fieldError('name', 'Already in use.')]);
  throw error;
}

/** A cursor over user ids must hold a uuid; anything else was not made by this API. */
function userCursor<Q extends PageQuery>(page: Q): Q {
  if (page.cursor !== undefined && !isUuid(page.cursor)) throw problems.validation([fieldError('cursor', 'Not a cursor returned by this API.')]);
  return page;
}

export interface GroupServiceDeps {
  db: Db;
}

export function createGroupService({ db }: GroupServiceDeps) {
  async function findGroupRow(queries: GroupQueries, groupId: string): Promise<GroupRow | undefined> {
    // Not a uuid → cannot exist; answering here keeps a malformed id from reaching SQL as a 500.
    return isUuid(groupId) ? queries.findGroup(groupId) : undefined;
  }

  async function getGroupRow(poolId: string, groupId: string): Promise<GroupRow> {
    const row = await findGroupRow(createGroupQueries(db, poolId), groupId);
    if (!row) throw groupNotFound();
    return row;
  }

  async function assertUser(poolId: string, userId: string): Promise<void> {
    const user = isUuid(userId) ? await createUserQueries(db, poolId).findUser(userId) : undefined;
    if (!user) throw problems.notFound('User');
  }

  return {
    async createGroup(poolId: string, input: CreateGroupInput, record?: RecordChange) {
      const parentId = input.parentId ?? null;
      if (parentId !== null && !isUuid(parentId)) throw parentNotFound();
      // A new group has no descendants, so no parent can make a cycle with it; the composite
      // foreign key (pool_id, parent_id) refuses a parent that is not a group of this pool.
      const row = await changeWithEvents(
        db,
        record,
        (executor) =>
          createGroupQueries(executor, poolId).insertGroup({ id: randomUUID(), name: input.name, description: input.description ?? '', parent_id: parentId }),
        (group) => [{ target: { type: 'group', id: group.id } }],
      ).catch((error: unknown) => {
        if (isForeignKeyViolation(error)) throw parentNotFound();
        return nameTaken(error);
      });
      return toGroupResponse(row);
    },

    async getGroup(poolId: string, groupId: string) {
      return toGroupResponse(await getGroupRow(poolId, groupId));
    },

    async listGroups(poolId: string, query: ListGroupsQuery) {
      if (query.parentId !== undefined && !isUuid(query.parentId)) return { items: [], nextCursor: null };
      const rows = await createGroupQueries(db, poolId).listGroups(query, query.limit + 1, query.cursor);
      return toPage(rows, query.limit, (row) => row.sort_key, toGroupResponse);
    },

    /** `event` writes the change's event inside its transaction (ADR 0809). */
    async updateGroup(poolId: string, groupId: string, input: UpdateGroupInput, event?: RecordChange) {
      const change: GroupChange = {};
      if (input.name !== undefined) change.name = input.name;
      if (input.description !== undefined) change.description = input.description;
      const moves = input.parentId !== undefined;
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const queries = createGroupQueries(trx, poolId);
          if (moves) await queries.lockTree();
          const group = await findGroupRow(queries, groupId);
          if (!group) throw groupNotFound();
          if (moves && input.parentId !== group.parent_id) {
            const parentId = input.parentId ?? null;
            if (parentId !== null) {
              const parent = await findGroupRow(queries, parentId);
              if (!parent) throw parentNotFound();
              if (await queries.isSelfOrAncestor(group.id, parent.id)) throw cycle(group, parent);
            }
            change.parent_id = parentId;
          }
          const updated = await queries.updateGroup(groupId, change);
          if (updated) await event?.(trx);
          return updated;
        })
        .catch(nameTaken);
      if (!row) throw groupNotFound();
      return toGroupResponse(row);
    },

    async deleteGroup(poolId: string, groupId: string, { cascade }: DeleteGroupQuery, event?: RecordChange): Promise<void> {
      await db
        .transaction()
        .execute(async (trx) => {
          const queries = createGroupQueries(trx, poolId);
          await queries.lockTree();
          if (!(await findGroupRow(queries, groupId))) throw groupNotFound();
          if (cascade === 'true') {
            await queries.deleteSubtree(groupId);
            await event?.(trx);
            return;
          }
          const children = await queries.countChildren(groupId);
          if (children > 0) throw hasChildren(children);
          await queries.deleteGroup(groupId);
          await event?.(trx);
        })
        .catch((error: unknown) => {
          // The parent foreign key is the last word: a child added meanwhile still blocks.
          if (isForeignKeyViolation(error)) throw hasChildren();
          throw error;
        });
    },

    /** PUT: idempotent; the user must be a user of the pool. */
    async addMember(poolId: string, groupId: string, userId: string, record?: RecordChange): Promise<void> {
      await getGroupRow(poolId, groupId);
      await assertUser(poolId, userId);
      await changeWithEvents(db, record, (executor) => createGroupQueries(executor, poolId).insertMember(groupId, userId)).catch((error: unknown) => {
        // The composite foreign keys refuse a user or group deleted meanwhile, or of another pool.
        if (isForeignKeyViolation(error)) throw problems.notFound('User');
        throw error;
      });
    },

    /** DELETE: idempotent for a user who is not a member; 404 only when the group or the user does not exist. */
    async removeMember(poolId: string, groupId: string, userId: string, record?: RecordChange): Promise<void> {
      await getGroupRow(poolId, groupId);
      await assertUser(poolId, userId);
      await changeWithEvents(db, record, (executor) => createGroupQueries(executor, poolId).deleteMember(groupId, userId));
    },

    async listMembers(poolId: string, groupId: string, query: ListMembersQuery) {
      const page = userCursor(query);
      await getGroupRow(poolId, groupId);
      const queries = createGroupQueries(db, poolId);
      const rows =
        page.nested === 'true'
          ? await queries.listNestedMembers(groupId, page.limit + 1, page.cursor)
          : (await queries.listDirectMembers(groupId, page.limit + 1, page.cursor)).map((row) => ({ ...row, direct: true }));
      return toPage(rows, page.limit, (row) => row.id, toMemberResponse);
    },

    /** The groups of a user, direct and inherited (`direct` tells which). */
    async listUserGroups(poolId: string, userId: string, page: PageQuery) {
      await assertUser(poolId, userId);
      const rows = await createGroupQueries(db, poolId).listUserGroups(userId, page.limit + 1, page.cursor);
      return toPage(rows, page.limit, (row) => row.sort_key, toUserGroupResponse);
    },

    /** The `groups` claim: names of every group the user is in, directly or through nesting. */
    async listGroupNames(poolId: string, userId: string): Promise<string[]> {
      if (!isUuid(userId)) return [];
      return createGroupQueries(db, poolId).listUserGroupNames(userId);
    },
  };
}

function hasChildren(count?: number): AppError {
  const what = count === undefined ? 'child groups' : count === 1 ? 'a child group' : `${count} child groups`;
  return problems.conflict(`The group has ${what}. Move or delete them first, or delete the whole subtree with ?cascade=true.`);
}

export type GroupService = ReturnType<typeof createGroupService>;
