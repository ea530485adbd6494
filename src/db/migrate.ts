/**
 * Applies migrations/NNN_name.sql in order, each once, each in its own transaction.
 * Plain SQL files so PostgreSQL and PGlite run exactly the same statements.
 * A PostgreSQL advisory lock keeps two instances starting together from racing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { DatabaseHandle } from './database.js';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

const MIGRATION_LOCK = 7_285_146_001; // arbitrary, constant: "tarn migrations"

export async function listMigrations(dir = migrationsDir): Promise<string[]> {
  const files = await readdir(dir);
  return files.filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file)).sort();
}

export async function appliedMigrations(handle: DatabaseHandle): Promise<string[]> {
  const exists = await sql<{ present: boolean }>`select to_regclass('tarn_migrations') is not null as present`.execute(handle.db);
  if (!exists.rows[0]?.present) return [];
  const rows = await sql<{ name: string }>`select name from tarn_migrations order by name`.execute(handle.db);
  return rows.rows.map((row) => row.name);
}

/** Returns the names of the migrations it applied. */
export async function migrate(handle: DatabaseHandle, dir = migrationsDir): Promise<string[]> {
  await handle.execScript('CREATE TABLE IF NOT EXISTS tarn_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const applied: string[] = [];
  for (const name of await listMigrations(dir)) {
    const script = await readFile(`${dir}/${name}`, 'utf8');
    const escapedName = name.replace(/'/g, "''");
    if ((await appliedMigrations(handle)).includes(name)) continue;
    // The advisory lock serialises instances starting together; the insert comes first so
    // an instance that waited on the lock fails on the primary key and rolls back whole.
    try {
      await handle.execScript(`BEGIN;
SELECT pg_advisory_xact_lock(${MIGRATION_LOCK});
INSERT INTO tarn_migrations (name) VALUES ('${escapedName}');
${script}
;
COMMIT;`);
    } catch (error) {
      if ((await appliedMigrations(handle)).includes(name)) continue;
      throw error;
    }
    applied.push(name);
  }
  return applied;
}

export async function pendingMigrations(handle: DatabaseHandle, dir = migrationsDir): Promise<string[]> {
  const done = new Set(await appliedMigrations(handle));
  return (await listMigrations(dir)).filter((name) => !done.has(name));
}
