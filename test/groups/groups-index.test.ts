/**
 * Membership queries stay index-backed as a pool grows (docs/design.md#performance: no
 * scans). The pool gets 10,000 users and 1,000 groups (10 roots, 90 departments, 900
 * teams), each user in two teams (20,000 memberships). Groups and memberships go through
 * the group service; users are inserted in batches of 1,000 rows, since the user
 * service would hash 10,000 passwords (argon2id is slow on purpose) and this test is
 * about the membership tables. After ANALYZE, the plan of the user's-groups query (the
 * admin list and the `groups` claim) must reach group_members through its user index and
 * never scan it sequentially. No planner settings are changed.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { userGroupNamesQuery, userGroupsQuery } from '../../src/groups/groups.queries.js';
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const USERS = 10_000;
const ROOTS = 10;
const DEPARTMENTS_PER_ROOT = 9;
const TEAMS_PER_DEPARTMENT = 10;

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function seedUsers(poolId: string): Promise<string[]> {
  const { db } = tarn.database.handle;
  const ids = Array.from({ length: USERS }, () => randomUUID());
  for (let start = 0; start < USERS; start += 1000) {
    const rows = ids.slice(start, start + 1000).map((id, offset) => ({
      pool_id: poolId,
      id,
      email: `person-${start + offset}@scale.example`,
      status: 'active' as const,
      profile: '{}',
      metadata: '{}',
      password_hash: null,
    }));
    await db.insertInto('users').values(rows).execute();
  }
  return ids;
}

interface Team {
  id: string;
  name: string;
  department: string;
  root: string;
}

async function seedGroups(poolId: string): Promise<Team[]> {
  const groups = tarn.tarn.services.groups;
  const teams: Team[] = [];
  for (let r = 0; r < ROOTS; r += 1) {
    const root = await groups.createGroup(poolId, { name: `org-${r}` });
    for (let d = 0; d < DEPARTMENTS_PER_ROOT; d += 1) {
      const department = await groups.createGroup(poolId, { name: `dept-${r}-${d}`, parentId: root.id });
      for (let t = 0; t < TEAMS_PER_DEPARTMENT; t += 1) {
        const team = await groups.createGroup(poolId, { name: `team-${r}-${d}-${t}`, parentId: department.id });
        teams.push({ id: team.id, name: team.name, department: department.name, root: root.name });
      }
    }
  }
  return teams;
}

/** Each user in two teams, inserted 5,000 pairs at a time; returns the teams of each user. */
async function seedMemberships(poolId: string, users: string[], teams: Team[]): Promise<Map<string, Team[]>> {
  const byUser = new Map<string, Team[]>();
  const pairs = users.flatMap((userId, i) => {
    const picked = [teams[i % teams.length]!, teams[(i * 7 + 3) % teams.length]!];
    byUser.set(userId, picked);
    return picked.map((team) => ({ groupId: team.id, userId }));
  });
  let added = 0;
  for (let start = 0; start < pairs.length; start += 5000) {
    const rows = pairs.slice(start, start + 5000).map((pair) => ({ pool_id: poolId, group_id: pair.groupId, user_id: pair.userId }));
    const result = await tarn.database.handle.db.insertInto('group_members').values(rows).executeTakeFirst();
    added += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  expect(added).toBe(users.length * 2);
  return byUser;
}

async function planOf(query: { compile(db: never): unknown }): Promise<string> {
  const { db } = tarn.database.handle;
  const result = await sql<Record<string, string>>`EXPLAIN ${query}`.execute(db);
  return result.rows.map((row) => Object.values(row)[0]).join('\n');
}

describe('membership queries at 10,000 users and 1,000 groups', () => {
  it("answers a user's groups through the indexes, without a sequential scan of group_members", async () => {
    const pool = await createPool(tarn);
    const users = await seedUsers(pool.id);
    const teams = await seedGroups(pool.id);
    expect(teams).toHaveLength(900);
    const byUser = await seedMemberships(pool.id, users, teams);
    const { db } = tarn.database.handle;
    await sql`ANALYZE groups`.execute(db);
    await sql`ANALYZE group_members`.execute(db);
    await sql`ANALYZE users`.execute(db);

    const counts = await sql<{ groups: number; members: number }>`
      SELECT (SELECT count(*) FROM groups WHERE pool_id = ${pool.id})::int AS groups,
             (SELECT count(*) FROM group_members WHERE pool_id = ${pool.id})::int AS members`.execute(db);
    expect(counts.rows[0]).toEqual({ groups: 1000, members: 20_000 });

    const userId = users[4242]!;
    const plan = await planOf(userGroupsQuery(pool.id, userId, 51));
    expect(plan).toMatch(/Index (Only )?Scan using group_members_user on group_members|Bitmap Index Scan on group_members_user/);
    expect(plan).not.toMatch(/Seq Scan on group_members/);

    const claimPlan = await planOf(userGroupNamesQuery(pool.id, userId));
    expect(claimPlan).toMatch(/group_members_user/);
    expect(claimPlan).not.toMatch(/Seq Scan on group_members/);

    // And the answer is right: both teams, their departments and their roots.
    const expected = new Set(byUser.get(userId)!.flatMap((team) => [team.name, team.department, team.root]));
    const response = await tarn.admin('GET', `/pools/${pool.id}/users/${userId}/groups?limit=200`);
    expect(new Set(response.body.items.map((g: { name: string }) => g.name))).toEqual(expected);
    expect(await tarn.tarn.services.groups.listGroupNames(pool.id, userId)).toHaveLength(expected.size);
  });
});
