/**
 * A database of its own for each test file: a fresh PostgreSQL database on the server in
 * DATABASE_URL (dropped afterwards), or an in-memory PGlite when DATABASE_URL is unset.
 * Runs never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

export interface TestDatabase {
  handle: DatabaseHandle;
  /** postgres:// URL of the test's own database (undefined on PGlite). */
  url: string | undefined;
  drop(): Promise<void>;
}

export const serverUrl = process.env.DATABASE_URL;

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.href;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!serverUrl) {
    const handle = await openDatabase({});
    await migrate(handle);
    return { handle, url: undefined, drop: () => handle.close() };
  }
  const name = `tarn_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  const handle = await openDatabase({ databaseUrl: url, poolSize: 5 });
  await migrate(handle);
  return {
    handle,
    url,
    async drop() {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
