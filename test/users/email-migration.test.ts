/**
 * Stored emails written before normalisation (NFKC, lower-case domain) are normalised by the
 * migration, except where two rows of a pool would become one address: those are left for an
 * administrator to resolve, and the migration still succeeds. Checked on a database dump
 * taken the way an operator would see it (plain SQL).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { listMigrations, migrate, migrationsDir } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

it('normalises stored emails and codes, leaving colliding rows untouched', async () => {
  // createTestDatabase applied every migration; replay the email step on rows written as before it.
  const db = database.handle.db;
  const all = await listMigrations();
  const step = all.find((name) => name.startsWith('008_'))!;
  await sql`insert into pools (id, name, sign_in, password_policy, lockout) values ('mig', 'Migration', '{}', '{}', '{}')`.execute(db);
  const rows: [string, string][] = [
    ['00000000-0000-4000-8000-000000000001', '\uFF41lice@Example.COM'], // fullwidth a, mixed-case domain
    ['00000000-0000-4000-8000-000000000002', 'Bob@EXAMPLE.test'], // domain case only
    ['00000000-0000-4000-8000-000000000003', '\uFF43arol@example.test'], // would collide with the next row
    ['00000000-0000-4000-8000-000000000004', 'carol@example.test'],
  ];
  for (const [id, email] of rows) await sql`insert into users (pool_id, id, email, status) values ('mig', ${id}::uuid, ${email}, 'active')`.execute(db);
  await sql`insert into one_time_codes (pool_id, id, purpose, user_id, email, code_hash, created_at, expires_at)
            values ('mig', 'otc_1', 'invitation', '00000000-0000-4000-8000-000000000001', ${'\uFF41lice@Example.COM'}, 'h', now(), now() + interval '1 day')`.execute(
    db,
  );

  // The email step alone, as a migration run would apply it to these rows.
  const dir = mkdtempSync(join(tmpdir(), 'tarn-migration-'));
  copyFileSync(join(migrationsDir, step), join(dir, step));
  await sql`delete from tarn_migrations where name = ${step}`.execute(db);
  await sql`alter table one_time_codes drop column binding`.execute(db);
  await sql`drop table mail_requests`.execute(db);
  await sql`create table ip_throttles (pool_id text, ip text, failures integer, window_started_at timestamptz)`.execute(db);
  expect(await migrate(database.handle, dir)).toEqual([step]);

  const stored = await sql<{ id: string; email: string }>`select id::text, email from users where pool_id = 'mig' order by id`.execute(db);
  expect(stored.rows.map((row) => row.email)).toEqual(['alice@example.com', 'Bob@example.test', '\uFF43arol@example.test', 'carol@example.test']);
  const code = await sql<{ email: string }>`select email from one_time_codes where pool_id = 'mig' and id = 'otc_1'`.execute(db);
  expect(code.rows[0]!.email).toBe('alice@example.com');
});
