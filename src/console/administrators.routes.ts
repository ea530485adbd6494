/**
 * /admin/pools/tarn-admin/administrators: the admin pool's users with their roles (ADR 1000).
 * Only the admin pool has administrators; at any other pool these routes find nothing. Only
 * owners (and the admin token) reach the admin pool, so only they invite administrators.
 */
import { z } from 'zod';
import { poolRoute } from '../admin/pool-scope.js';
import type { Db } from '../db/database.js';
import { timestamp } from '../http/guard.js';
import { fieldError, problems } from '../http/problem.js';
import { ADMIN_POOL_ID } from '../oidc/built-in-clients.js';
import { RESERVED_POOL_IDS } from '../pools/pools.schemas.js';
import { createUserSchema } from '../users/users.schemas.js';
import type { UserService } from '../users/users.service.js';
import { createRoleQueries } from './roles.queries.js';

const roleSchema = z
  .object({ role: z.enum(['owner', 'admin', 'viewer']), pool: z.string().max(63).optional().describe('The pool an admin or viewer manages.') })
  .strict();

const roles = { roles: z.array(roleSchema).min(1).max(100) };
export const createAdministratorSchema = z.discriminatedUnion(
  'mode',
  createUserSchema.options.map((option) => option.extend(roles)) as unknown as [z.ZodObject, z.ZodObject],
  { error: () => 'Must be "password" or "invite".' },
);

const administratorResponse = z.object({
  id: z.string(),
  email: z.string(),
  status: z.enum(['new', 'active', 'disabled']),
  roles: z.array(z.object({ role: z.enum(['owner', 'admin', 'viewer']), pool: z.string().nullable() })),
  createdAt: timestamp,
});

interface AdministratorRouteDeps {
  db: Db;
  users: UserService;
  poolExists(poolId: string): Promise<boolean>;
}

export function administratorRoutes(deps: AdministratorRouteDeps) {
  const roles = createRoleQueries(deps.db);
  function onlyAdminPool(poolId: string): void {
    if (poolId !== ADMIN_POOL_ID) throw problems.notFound('Administrators');
  }
  return [
    poolRoute(
      {
        method: 'get',
        path: '/administrators',
        summary: "The administrators (admin pool's users) and their roles",
        status: 200,
        response: z.object({ items: z.array(administratorResponse), nextCursor: z.null() }),
      },
      async function listAdministrators(ctx) {
        onlyAdminPool(ctx.state.pool.id);
        const all = await roles.listAllRoles();
        const page = await deps.users.listUsers(ADMIN_POOL_ID, { limit: 200, cursor: undefined, sort: 'email', total: false });
        return {
          items: page.items.map((user) => ({
            id: user.id,
            email: user.email,
            status: user.status,
            roles: all.filter((row) => row.user_id === user.id).map((row) => ({ role: row.role, pool: row.managed_pool_id })),
            createdAt: user.createdAt,
          })),
          nextCursor: null,
        };
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/administrators',
        summary: 'Invite (or create) an administrator with their roles',
        body: createAdministratorSchema,
        status: 201,
        response: administratorResponse,
        problems: [409],
      },
      async function createAdministrator(ctx, { body }) {
        onlyAdminPool(ctx.state.pool.id);
        const { roles: wanted, ...user } = body as { roles: z.infer<typeof roleSchema>[] } & Record<string, unknown>;
        if (new Set(wanted.map((role) => role.pool ?? '')).size !== wanted.length) throw problems.validation([fieldError('roles', 'One role a pool.')]);
        for (const [index, role] of wanted.entries()) {
          const field = `roles.${index}.pool`;
          if (role.role === 'owner' && role.pool !== undefined) throw problems.validation([fieldError(field, 'An owner has every pool; leave it out.')]);
          if (role.role !== 'owner' && role.pool === undefined) throw problems.validation([fieldError(field, 'Name the pool this role is for.')]);
          if (role.pool !== undefined && (RESERVED_POOL_IDS.has(role.pool) || !(await deps.poolExists(role.pool))))
            throw problems.validation([fieldError(field, 'No such pool.')]);
        }
        const created = await deps.users.createUser(ctx.state.pool, user as Parameters<UserService['createUser']>[1]);
        for (const role of wanted) await roles.insertRole(created.id, role.role, role.pool ?? null);
        ctx.set('Location', `/admin/pools/${ADMIN_POOL_ID}/users/${created.id}`);
        return {
          id: created.id,
          email: created.email,
          status: created.status,
          roles: wanted.map((role) => ({ role: role.role, pool: role.pool ?? null })),
          createdAt: created.createdAt,
        };
      },
    ),
  ];
}
