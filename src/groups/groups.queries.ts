/**
 * Groups and memberships of one pool. Every statement filters by pool_id, in the
 * recursive parts too, so a walk up or down the tree never leaves the pool.
 * Trees are walked in SQL with recursive CTEs (UNION, not UNION ALL: each group is
 * visited once, so even a corrupted tree could not make a walk loop forever).
 * Index use (migrations/002_groups.sql): walking down uses groups_parent, walking up
 * the primary key, a user's memberships group_members_user, a group's the primary key.
 */
import { sql, type RawBuilder, type Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { GroupRow, GroupTable, UserRow } from '../db/tables.js';

export type NewGroup = { id: string; name: string; description?: string; parent_id: string | null };
export type GroupChange = Omit<Updateable<GroupTable>, 'pool_id' | 'id' | 'created_at'>;
/** sort_key is lower(name) as PostgreSQL computes it: the cursor must compare the way the ORDER BY does. */
export type SortedGroupRow = GroupRow & { sort_key: string };
export type UserGroupRow = SortedGroupRow & { direct: boolean };
export type MemberRow = UserRow & { direct: boolean };

const after = (condition: RawBuilder<unknown> | undefined) => condition ?? sql``;

/**
 * A user's groups, direct and inherited, one row each, ordered by lower(name) (the
 * cursor key), `direct` telling whether the user is in the group itself.
 * Exported on its own so that the index test can EXPLAIN exactly this statement.
 */
export function userGroupsQuery(poolId: string, userId: string, limit: number, afterName?: string): RawBuilder<UserGroupRow> {
  return sql<UserGroupRow>`
    WITH RECURSIVE reached (id, direct) AS (
      SELECT m.group_id, true
        FROM group_members m
       WHERE m.pool_id = ${poolId} AND m.user_id = ${userId}
      UNION
      SELECT g.parent_id, false
        FROM reached r
        JOIN groups g ON g.pool_id = ${poolId} AND g.id = r.id
       WHERE g.parent_id IS NOT NULL
    )
    SELECT g.*, lower(g.name) AS sort_key, bool_or(r.direct) AS direct
      FROM reached r
      JOIN groups g ON g.pool_id = ${poolId} AND g.id = r.id
     WHERE true ${after(afterName === undefined ? undefined : sql`AND lower(g.name) > ${afterName}`)}
     GROUP BY g.pool_id, g.id
     ORDER BY lower(g.name)
     LIMIT ${limit}`;
}

/** The names behind the `groups` claim; exported, like userGroupsQuery, for the index test. */
export function userGroupNamesQuery(poolId: string, userId: string): RawBuilder<{ name: string }> {
  return sql<{ name: string }>`
    WITH RECURSIVE reached (id) AS (
      SELECT group_id FROM group_members WHERE pool_id = ${poolId} AND user_id = ${userId}
      UNION
      SELECT g.parent_id
        FROM reached r JOIN groups g ON g.pool_id = ${poolId} AND g.id = r.id
       WHERE g.parent_id IS NOT NULL
    )
    SELECT g.name FROM reached r JOIN groups g ON g.pool_id = ${poolId} AND g.id = r.id
     ORDER BY lower(g.name)`;
}

export function createGroupQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    findGroup(id: string): Promise<GroupRow | undefined> {
      return pool.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
    },

    listGroups(filter: { parentId?: string | undefined; name?: string | undefined }, limit: number, afterName: string | undefined): Promise<SortedGroupRow[]> {
      let query = pool
        .selectFrom('groups')
        .selectAll()
        .select(sql<string>`lower(name)`.as('sort_key'))
        .orderBy(sql`lower(name)`)
        .limit(limit);
      if (filter.parentId !== undefined) query = query.where('parent_id', '=', filter.parentId);
      if (filter.name !== undefined) query = query.where(sql`lower(name)`, '=', filter.name.toLowerCase());
      if (afterName !== undefined) query = query.where(sql`lower(name)`, '>', afterName);
      return query.execute();
    },

    insertGroup(row: NewGroup): Promise<GroupRow> {
      return pool.insertInto('groups', row).returningAll().executeTakeFirstOrThrow();
    },

    updateGroup(id: string, change: GroupChange): Promise<GroupRow | undefined> {
      return pool
        .updateTable('groups')
        .set({ ...change, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async countChildren(id: string): Promise<number> {
      const row = await pool
        .selectFrom('groups')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('parent_id', '=', id)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Deletes one group; the parent foreign key makes this fail (23503) while it has children. */
    async deleteGroup(id: string): Promise<boolean> {
      const result = await pool.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Deletes a group and all its descendants in one statement; memberships go with them. */
    async deleteSubtree(id: string): Promise<number> {
      const result = await sql<{ id: string }>`
        WITH RECURSIVE subtree (id) AS (
          SELECT id FROM groups WHERE pool_id = ${poolId} AND id = ${id}
          UNION
          SELECT c.id FROM groups c JOIN subtree s ON c.pool_id = ${poolId} AND c.parent_id = s.id
        )
        DELETE FROM groups WHERE pool_id = ${poolId} AND id IN (SELECT id FROM subtree)
        RETURNING id`.execute(db);
      return result.rows.length;
    },

    /**
     * Whether `groupId` is `ofId` or one of its ancestors. Before a move: making P the
     * parent of G closes a cycle exactly when G is P or above P.
     */
    async isSelfOrAncestor(groupId: string, ofId: string): Promise<boolean> {
      const result = await sql<{ found: boolean }>`
        WITH RECURSIVE chain (id, parent_id) AS (
          SELECT id, parent_id FROM groups WHERE pool_id = ${poolId} AND id = ${ofId}
          UNION
          SELECT g.id, g.parent_id
            FROM chain c JOIN groups g ON g.pool_id = ${poolId} AND g.id = c.parent_id
        )
        SELECT EXISTS (SELECT 1 FROM chain WHERE id = ${groupId}) AS found`.execute(db);
      return result.rows[0]?.found === true;
    },

    /**
     * Serialises changes to the pool's tree (moves, subtree deletions) until the end of
     * the transaction: two concurrent moves could otherwise each pass the cycle check
     * and together close a loop. Other pools are not blocked.
     */
    async lockTree(): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`tarn-groups:${poolId}`}, 0))`.execute(db);
    },

    /** Idempotent: true when the membership was new. The foreign keys refuse users and groups of other pools. */
    async insertMember(groupId: string, userId: string): Promise<boolean> {
      const result = await pool
        .insertInto('group_members', { group_id: groupId, user_id: userId })
        .onConflict((oc) => oc.columns(['pool_id', 'group_id', 'user_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async deleteMember(groupId: string, userId: string): Promise<boolean> {
      const result = await pool.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Direct members of a group, ordered by user id (the cursor key). */
    listDirectMembers(groupId: string, limit: number, afterUserId: string | undefined): Promise<UserRow[]> {
      let query = db
        .selectFrom('group_members as m')
        .innerJoin('users as u', (join) => join.onRef('u.pool_id', '=', 'm.pool_id').onRef('u.id', '=', 'm.user_id'))
        .selectAll('u')
        .where('m.pool_id', '=', poolId)
        .where('m.group_id', '=', groupId)
        .orderBy('m.user_id')
        .limit(limit);
      if (afterUserId !== undefined) query = query.where('m.user_id', '>', afterUserId);
      return query.execute();
    },

    /**
     * Members of a group and of every group below it, each user once, ordered by user id;
     * `direct` tells whether the user is in the group itself.
     */
    async listNestedMembers(groupId: string, limit: number, afterUserId: string | undefined): Promise<MemberRow[]> {
      const result = await sql<MemberRow>`
        WITH RECURSIVE subtree (id) AS (
          SELECT id FROM groups WHERE pool_id = ${poolId} AND id = ${groupId}
          UNION
          SELECT c.id FROM groups c JOIN subtree s ON c.pool_id = ${poolId} AND c.parent_id = s.id
        )
        SELECT u.*, bool_or(m.group_id = ${groupId}) AS direct
          FROM group_members m
          JOIN users u ON u.pool_id = m.pool_id AND u.id = m.user_id
         WHERE m.pool_id = ${poolId}
           AND m.group_id IN (SELECT id FROM subtree)
           ${after(afterUserId === undefined ? undefined : sql`AND m.user_id > ${afterUserId}`)}
         GROUP BY u.pool_id, u.id
         ORDER BY u.id
         LIMIT ${limit}`.execute(db);
      return result.rows;
    },

    async listUserGroups(userId: string, limit: number, afterName: string | undefined): Promise<UserGroupRow[]> {
      return (await userGroupsQuery(poolId, userId, limit, afterName).execute(db)).rows;
    },

    /** Names of every group the user is in, directly or through nesting: the `groups` claim. */
    async listUserGroupNames(userId: string): Promise<string[]> {
      return (await userGroupNamesQuery(poolId, userId).execute(db)).rows.map((row) => row.name);
    },
  };
}

export type GroupQueries = ReturnType<typeof createGroupQueries>;
