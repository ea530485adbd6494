/**
 * The pool of a query module, added in one place (as Ory Kratos' QueryWithNetwork adds the
 * network id): a module is created for one pool and builds its statements from this
 * handle, whose every select, update and delete is already filtered by `pool_id` and
 * whose every insert already carries it. A module cannot forget the pool, nor pass
 * another one.
 *
 * Statements the builder cannot express (recursive CTEs, fixed statements of the hot
 * path, ADR 0703) take `poolId` from the same handle; composite keys and composite
 * foreign keys `(pool_id, …)` make a cross-pool link fail in PostgreSQL itself.
 */
import {
  sql,
  type DeleteQueryBuilder,
  type DeleteResult,
  type Insertable,
  type SelectQueryBuilder,
  type SqlBool,
  type UpdateQueryBuilder,
  type UpdateResult,
} from 'kysely';
import type { Db } from './database.js';
import type { Database } from './tables.js';

/** Tables whose rows belong to one pool. */
export type PoolOwnedTable = { [T in keyof Database]: Database[T] extends { pool_id: string } ? T : never }[keyof Database];

/** A new row of a pool-owned table, without its pool_id (the handle adds it). */
export type NewPoolRow<T extends PoolOwnedTable> = Omit<Insertable<Database[T]>, 'pool_id'>;

/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion, @typescript-eslint/no-empty-object-type --
   tsc needs these casts (the rule sees the generic table resolved, tsc does not), and `{}` is
   Kysely's own type for "nothing selected yet". */
export function poolScoped(db: Db, poolId: string) {
  // Unqualified: the builders below start from one table; joins name their own pool_id columns.
  const ofPool = sql<SqlBool>`pool_id = ${poolId}`;
  return {
    poolId,
    /** For raw statements that bind `poolId` themselves (recursive CTEs). */
    db,
    // (Built on the union of pool-owned tables, then typed for the one asked: Kysely cannot
    // resolve a column reference against a table that is still a type parameter.)
    selectFrom<T extends PoolOwnedTable>(table: T): SelectQueryBuilder<Database, T, {}> {
      return db.selectFrom(table as PoolOwnedTable).where(ofPool) as unknown as SelectQueryBuilder<Database, T, {}>;
    },
    updateTable<T extends PoolOwnedTable>(table: T): UpdateQueryBuilder<Database, T, T, UpdateResult> {
      return db.updateTable(table as PoolOwnedTable).where(ofPool) as unknown as UpdateQueryBuilder<Database, T, T, UpdateResult>;
    },
    deleteFrom<T extends PoolOwnedTable>(table: T): DeleteQueryBuilder<Database, T, DeleteResult> {
      return db.deleteFrom(table as PoolOwnedTable).where(ofPool) as unknown as DeleteQueryBuilder<Database, T, DeleteResult>;
    },
    insertInto<T extends PoolOwnedTable>(table: T, rows: NewPoolRow<T> | readonly NewPoolRow<T>[]) {
      const values = (Array.isArray(rows) ? rows : [rows]).map((row: NewPoolRow<T>) => ({ ...row, pool_id: poolId }));
      // The spread cannot be checked against a generic table; its parts were.
      return db.insertInto(table).values(values as never);
    },
  };
}

/* eslint-enable @typescript-eslint/no-unnecessary-type-assertion, @typescript-eslint/no-empty-object-type */

export type PoolScopedDb = ReturnType<typeof poolScoped>;
