/**
 * Connections of one pool and the identities linked through them. Every statement is
 * scoped to the pool (db/pool-scoped.ts); the join of identities to their connection binds
 * the pool on both tables.
 */
import type { Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped, type NewPoolRow } from '../db/pool-scoped.js';
import type { ConnectionTable } from '../db/tables.js';

export type ConnectionChange = Omit<Updateable<ConnectionTable>, 'pool_id' | 'id' | 'created_at'>;

export function createConnectionQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    findConnection(id: string) {
      return pool.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
    },
    findConnectionByName(name: string) {
      return pool.selectFrom('connections').selectAll().where('name', '=', name).executeTakeFirst();
    },
    listConnections() {
      return pool.selectFrom('connections').selectAll().orderBy('name').execute();
    },
    insertConnection(row: NewPoolRow<'connections'>) {
      return pool.insertInto('connections', row).returningAll().executeTakeFirstOrThrow();
    },
    updateConnection(id: string, change: ConnectionChange) {
      return pool
        .updateTable('connections')
        .set({ ...change, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },
    async deleteConnection(id: string): Promise<boolean> {
      const result = await pool.deleteFrom('connections').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** A user's linked identities, with the name of the connection each came through. */
    listIdentities(userId: string) {
      return pool.db
        .selectFrom('linked_identities as i')
        .innerJoin('connections as c', (join) => join.onRef('c.pool_id', '=', 'i.pool_id').onRef('c.id', '=', 'i.connection_id'))
        .select(['i.connection_id', 'i.subject', 'i.user_id', 'i.created_at', 'c.name as connection_name'])
        .where('i.pool_id', '=', poolId)
        .where('c.pool_id', '=', poolId)
        .where('i.user_id', '=', userId)
        .orderBy('c.name')
        .execute();
    },
    findIdentity(connectionId: string, subject: string) {
      return pool.selectFrom('linked_identities').selectAll().where('connection_id', '=', connectionId).where('subject', '=', subject).executeTakeFirst();
    },
    insertIdentity(row: NewPoolRow<'linked_identities'>) {
      return pool.insertInto('linked_identities', row).returningAll().executeTakeFirstOrThrow();
    },
    /** Stores (or with null, forgets) the sealed upstream tokens of one identity. */
    async setTokens(connectionId: string, subject: string, tokensEnc: string | null): Promise<void> {
      await pool
        .updateTable('linked_identities')
        .set({ tokens_enc: tokensEnc })
        .where('connection_id', '=', connectionId)
        .where('subject', '=', subject)
        .execute();
    },
    /** Forgets every stored token of a connection (storeTokens turned off). */
    async clearTokens(connectionId: string): Promise<void> {
      await pool
        .updateTable('linked_identities')
        .set({ tokens_enc: null })
        .where('connection_id', '=', connectionId)
        .where('tokens_enc', 'is not', null)
        .execute();
    },
    async deleteIdentity(userId: string, connectionId: string): Promise<boolean> {
      const result = await pool.deleteFrom('linked_identities').where('user_id', '=', userId).where('connection_id', '=', connectionId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type ConnectionQueries = ReturnType<typeof createConnectionQueries>;
