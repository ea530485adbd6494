/**
 * Statements of the hot path with fixed SQL text (ADR 0703). Two costs go away:
 * Kysely building and compiling the query on every call (measured: a one-row artifact upsert
 * spent ≈ 170 µs of Tarn's CPU there, as much as the round trip itself), and, on PostgreSQL,
 * parsing and planning it on every call: the text is prepared once per connection under
 * its name and then only executed (see PreparingClient). On PGlite the name is a comment.
 * Variable-length batches keep one text by passing arrays (`unnest`) or one JSON array.
 */
import { CompiledQuery, type QueryResult } from 'kysely';
import pg from 'pg';
import type { Db } from './database.js';

const MARK = /^\/\* prepared:([a-z_]+) \*\//;

/**
 * The opening of a statement that commits without waiting for its WAL flush (ADR 0700):
 * `set_config(…, true)` is local to the statement's own transaction; the statement must
 * select from `async_commit` so that it runs.
 */
export const ASYNC_COMMIT = "with async_commit as (select set_config('synchronous_commit', 'off', true))";

export interface Statement<R> {
  readonly name: string;
  /** The SQL text sent (with its mark when prepared). */
  readonly text: string;
  run(db: Db, values: readonly unknown[]): Promise<QueryResult<R>>;
}

function statement<R>(name: string, sql: string): Statement<R> {
  return { name, text: sql, run: (db, values) => db.executeQuery<R>(CompiledQuery.raw(sql, [...values])) };
}

/**
 * A statement with fixed text, planned on every run (as Kysely's queries are): for reads
 * whose best plan depends on table sizes that change (an empty table at start grows to
 * millions of rows), which a prepared plan, made once, would not follow.
 */
export function fixedStatement<R = unknown>(name: string, text: string): Statement<R> {
  return statement(name, text.trim());
}

/** A fixed statement that PostgreSQL also prepares once per connection (only where no plan can go stale). */
export function preparedStatement<R = unknown>(name: string, text: string): Statement<R> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`invalid statement name ${name}`);
  return statement(name, `/* prepared:${name} */ ${text.trim()}`);
}

/**
 * node-postgres's client, preparing marked statements under their name: the first run on a
 * connection parses the text, later runs on it execute the prepared statement. It relies on
 * Kysely's PostgreSQL driver calling `query(text, values)`; test/oidc/library-assumptions.test.ts
 * fails on an upgrade where the statement is no longer prepared.
 */
export class PreparingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // A connection lost while the client is checked out (the server stopped mid-query) is
    // emitted here as 'error'; the pool listens only to idle clients, and an unheard 'error'
    // ends the process. The query in flight is already failed with the same error, and the
    // pool discards the client when it comes back unqueryable (ADR 0800).
    this.on('error', () => {});
  }

  override query(config: unknown, values?: unknown, callback?: unknown): never {
    if (typeof config === 'string' && typeof callback !== 'function') {
      const name = MARK.exec(config)?.[1];
      if (name) return super.query({ name, text: config, values: values as unknown[] }) as never;
    }
    return (super.query as (...args: unknown[]) => never)(config, values, callback);
  }
}
