/**
 * The artifact statements by key are prepared once per connection (ADR 0712): PostgreSQL then
 * keeps one plan for the life of the connection, made with whatever the table held when it
 * planned. Each must use its unique key's index whatever that was: an empty table (a fresh
 * installation), or a table grown since without fresh statistics. A plan that scanned the
 * table, or scanned a pool's rows through an index that fixes fewer columns, would slow every
 * sign-in and token request of that connection as the table grows.
 */
import { sql, type Kysely } from 'kysely';
import { ARTIFACT_KEY_STATEMENTS } from '../../src/oidc/artifacts.queries.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await database.drop();
});

/** The plan PostgreSQL keeps for a prepared statement (its generic plan), as EXPLAIN prints it. */
async function keptPlan(db: Kysely<any>, text: string, name: string): Promise<string> {
  return db.connection().execute(async (connection) => {
    await sql`set plan_cache_mode = force_generic_plan`.execute(connection);
    try {
      await sql.raw(`prepare ${name} (text, text, text) as ${text}`).execute(connection);
      const plan = await sql.raw<{ 'QUERY PLAN': string }>(`explain execute ${name}('pool-a', 'Session', 'key-1')`).execute(connection);
      await sql.raw(`deallocate ${name}`).execute(connection);
      return plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await sql`reset plan_cache_mode`.execute(connection);
    }
  });
}

async function expectKeyPlans(db: Kysely<any>, when: string) {
  for (const { statement, index } of ARTIFACT_KEY_STATEMENTS) {
    const plan = await keptPlan(db, statement.text, `${statement.name}_${when}`);
    expect({ statement: statement.name, plan }).toEqual({
      statement: statement.name,
      plan: expect.stringContaining(`Index Scan using ${index} on oidc_artifacts`),
    });
    // every column of the key is in the index condition, none is left to a filter over a pool's rows
    expect(plan).toMatch(/Index Cond: \(\(pool_id = \$1\) AND \(model = \$2\) AND \((id|uid) = \$3\)\)/);
  }
}

it('looks artifacts up by their key through its index on an empty table and on a grown one without fresh statistics', async () => {
  const db = database.handle.db;
  await expectKeyPlans(db, 'empty');
  // A busy pool's sessions, tokens and grants, written after the plans above would have been made.
  await sql`
    insert into oidc_artifacts (pool_id, model, id, payload, grant_id, uid, expires_at)
    select 'pool-a', (array['Session', 'AccessToken', 'Grant'])[1 + g % 3], 'k' || g, jsonb_build_object('accountId', 'u' || (g % 50)),
           'g' || (g % 500), 'uid' || g, now() + interval '1 hour'
    from generate_series(1, 20000) as g`.execute(db);
  await expectKeyPlans(db, 'grown');
}, 60_000);
