/** administrator_roles: the roles of the admin pool's users (ADR 1000). */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { AdministratorRoleTable } from '../db/tables.js';
import { ADMIN_POOL_ID } from '../oidc/built-in-clients.js';

export type RoleName = AdministratorRoleTable['role'];

export function createRoleQueries(db: Db) {
  const pool = poolScoped(db, ADMIN_POOL_ID);
  return {
    listRolesOf(userId: string) {
      return pool.selectFrom('administrator_roles').select(['role', 'managed_pool_id']).where('user_id', '=', userId).execute();
    },
    listAllRoles() {
      return pool.selectFrom('administrator_roles').select(['user_id', 'role', 'managed_pool_id']).orderBy('created_at').execute();
    },
    async hasOwner(): Promise<boolean> {
      const row = await pool.selectFrom('administrator_roles').select('user_id').where('role', '=', 'owner').limit(1).executeTakeFirst();
      return row !== undefined;
    },
    insertRole(userId: string, role: RoleName, managedPoolId: string | null) {
      return pool.insertInto('administrator_roles', { user_id: userId, role, managed_pool_id: managedPoolId }).execute();
    },
    deleteRoles(userId: string) {
      return pool.deleteFrom('administrator_roles').where('user_id', '=', userId).execute();
    },
  };
}
