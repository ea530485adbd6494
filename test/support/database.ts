/**
 * A database of its own for each test file: a fresh PostgreSQL database on the server in
 * DATABASE_URL (dropped afterwards), or an in-memory PGlite when DATABASE_URL is unset.
 * Runs never see each other's rows.
 *
 * PGlite: creating and migrating a cluster costs several seconds of CPU, so `npm test` archives a
 * migrated cluster once before the workers start (jest-global-setup.js, pglite-archive.ts) and
 * every test file starts from that archive; a file run outside jest migrates its own.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { archiveOf } from './pglite-archive.js';

/** The migrated cluster's archive in the run's directory (jest-global-setup.js writes it). */
export const PGLITE_ARCHIVE = 'migrated-pglite.tar';

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

/** A freshly migrated in-memory PGlite: from the run's archive (jest-global-setup.js) when there is one. */
async function openMigratedPglite(): Promise<DatabaseHandle> {
  const runDir = process.env.TARN_TEST_RUN_DIR;
  const archive = runDir && (await readFile(join(runDir, PGLITE_ARCHIVE)).catch(() => undefined));
  if (archive) return openDatabase({ pgliteArchive: archiveOf(archive) });
  const handle = await openDatabase({});
  await migrate(handle);
  return handle;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!serverUrl) {
    const handle = await openMigratedPglite();
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
