/**
 * The whole database as text, the way someone holding a backup reads it: pg_dump on
 * PostgreSQL, and on PGlite (no pg_dump) every row of every table as PostgreSQL's text form.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import type { TestDatabase } from './database.js';

export async function dumpDatabase(database: TestDatabase): Promise<string> {
  if (database.url) {
    const { stdout } = await promisify(execFile)('pg_dump', ['--no-owner', database.url], { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  }
  const { db } = database.handle;
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(name)} t`.execute(db);
    parts.push(`-- ${name}`, ...rows.rows.map((r) => r.row));
  }
  return parts.join('\n');
}
