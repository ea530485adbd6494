/** Applications (OIDC clients) of one pool. */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { ClientRow, ClientTable } from '../db/tables.js';
import type { Insertable, Updateable } from 'kysely';

export type ClientChange = Omit<Updateable<ClientTable>, 'pool_id' | 'client_id'>;
export type NewClient = Omit<Insertable<ClientTable>, 'pool_id'>;

export function createClientQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    findClient(clientId: string): Promise<ClientRow | undefined> {
      return pool.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    },

    listClients(limit: number, after: string | undefined): Promise<ClientRow[]> {
      let query = pool.selectFrom('clients').selectAll().orderBy('client_id').limit(limit);
      if (after !== undefined) query = query.where('client_id', '>', after);
      return query.execute();
    },

    insertClient(row: NewClient): Promise<ClientRow> {
      return pool.insertInto('clients', row).returningAll().executeTakeFirstOrThrow();
    },

    updateClient(clientId: string, change: ClientChange): Promise<ClientRow | undefined> {
      return pool
        .updateTable('clients')
        .set({ ...change, updated_at: new Date() })
        .where('client_id', '=', clientId)
        .returningAll()
        .executeTakeFirst();
    },

    async deleteClient(clientId: string): Promise<boolean> {
      const result = await pool.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
