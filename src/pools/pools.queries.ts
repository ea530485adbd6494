/** The pools table. Pools are the tenants themselves, so these queries are the only unscoped ones. */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { NewPoolRow, PoolRow, PoolUpdate } from '../db/tables.js';

export function createPoolQueries(db: Db) {
  return {
    findPool(id: string): Promise<PoolRow | undefined> {
      return db.selectFrom('pools').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** The pool's version alone: what a cached provider checks to know it is still fresh. */
    async findPoolVersion(id: string): Promise<number | undefined> {
      const row = await db.selectFrom('pools').select('version').where('id', '=', id).executeTakeFirst();
      return row?.version;
    },

    /** `only`: the pools to list (an administrator's), or every pool when undefined. */
    listPools(limit: number, after: string | undefined, only?: string[]): Promise<PoolRow[]> {
      let query = db.selectFrom('pools').selectAll().orderBy('id').limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      if (only !== undefined) {
        if (only.length === 0) return Promise.resolve([]);
        query = query.where('id', 'in', only);
      }
      return query.execute();
    },

    async insertPool(row: NewPoolRow): Promise<PoolRow> {
      return db.insertInto('pools').values(row).returningAll().executeTakeFirstOrThrow();
    },

    /** Applies the change and bumps the version so every provider for the pool is rebuilt. */
    updatePool(id: string, change: PoolUpdate): Promise<PoolRow | undefined> {
      return db
        .updateTable('pools')
        .set({ ...change, updated_at: new Date(), version: sql<number>`version + 1` })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async bumpPoolVersion(id: string): Promise<void> {
      await db
        .updateTable('pools')
        .set({ version: sql<number>`version + 1` })
        .where('id', '=', id)
        .execute();
    },

    /** Deletes the pool; its other rows go by ON DELETE CASCADE, its artifacts by deletePoolArtifacts. */
    async deletePool(id: string): Promise<boolean> {
      const result = await db.deleteFrom('pools').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /**
     * Removes every provider artifact (token, session, grant …) stored under the pool id.
     * Artifacts have no foreign key to pools (ADR 0706): run with the pool's deletion, and
     * with a pool's creation, so that nothing written under an earlier pool of the same id
     * (by an instance that had not yet heard of the deletion) outlives it.
     */
    async deletePoolArtifacts(id: string): Promise<void> {
      await db.deleteFrom('oidc_artifacts').where('pool_id', '=', id).execute();
    },
  };
}
