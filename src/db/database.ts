/**
 * Kysely over a real PostgreSQL server (DATABASE_URL) or over embedded PGlite (DATA_DIR).
 * Both run the same migrations and the same SQL; only the driver differs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PgliteDialect } from './pglite-dialect.js';
import { PreparingClient } from './prepared.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** The server's URL (PostgreSQL only): for connections outside the pool, e.g. LISTEN. */
  readonly url?: string | undefined;
  /** PGlite only: its whole data directory as an archive that pgliteArchive can start from. */
  readonly archive?: () => Promise<Blob>;
  /** Runs a multi-statement SQL script (migrations). */
  execScript(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… → real server. Absent → PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; "memory://" keeps it in memory (tests). */
  pgliteDir?: string;
  /** A PGlite data directory archive (PGlite's dumpDataDir) to start from instead of an empty cluster. */
  pgliteArchive?: Blob;
  poolSize?: number;
  /** How long a request waits for a new connection before failing with 503 (ms). */
  connectTimeoutMs?: number;
}

// int8 (count(*) and the like) as number: every count Tarn makes fits in 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

async function openPostgres(url: string, poolSize: number, connectTimeoutMs: number): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    // Hot-path statements are prepared once per connection (prepared.ts, ADR 0703).
    Client: PreparingClient,
    max: poolSize,
    // Fail fast when the database is away instead of queueing requests (ADR 0800): a refused
    // connection fails at once; an unanswered one (host gone, packets dropped) after this.
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Notice a dead server on idle connections (TCP keepalive) instead of on the next query.
    keepAlive: true,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    url,
    async execScript(sql) {
      const client = await pool.connect();
      try {
        await client.query(sql);
      } catch (error) {
        // A failed script may leave its explicit transaction open: never hand that back.
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPglite(dir: string, archive: Blob | undefined): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir, archive ? { loadDataDir: archive } : {});
  const db = new Kysely<Database>({ dialect: new PgliteDialect(client) });
  return {
    db,
    kind: 'pglite',
    archive: () => client.dumpDataDir('none'),
    async execScript(sql) {
      try {
        await client.exec(sql);
      } catch (error) {
        await client.exec('ROLLBACK').catch(() => {});
        throw error;
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10, options.connectTimeoutMs ?? 2000);
  return openPglite(options.pgliteDir ?? 'memory://', options.pgliteArchive);
}

export function pgliteDirFor(dataDir: string): string {
  return join(dataDir, 'pglite');
}
