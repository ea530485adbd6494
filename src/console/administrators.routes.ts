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

type Role = z.infer<typeof roleSchema>;
const rolesField = { roles: z.array(roleSchema).min(1).max(100) };
const administratorParams = z.object({ userId: z.string() });
export const createAdministratorSchema = z.discriminatedUnion(
  'mode',
  createUserSchema.options.map((option) => option.extend(rolesField)) as unknown as [z.ZodObject, z.ZodObject],
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
  async function checkRoles(wanted: Role[]): Promise<void> {
    if (new Set(wanted.map((role) => role.pool ?? '')).size !== wanted.length) throw problems.validation([fieldError('roles', 'One role a pool.')]);
    for (const [index, role] of wanted.entries()) {
      const field = `roles.${index}.pool`;
      if (role.role === 'owner' && role.pool !== undefined) throw problems.validation([fieldError(field, 'An owner has every pool; leave it out.')]);
      if (role.role !== 'owner' && role.pool === undefined) throw problems.validation([fieldError(field, 'Name the pool this role is for.')]);
      if (role.pool !== undefined && (RESERVED_POOL_IDS.has(role.pool) || !(await deps.poolExists(role.pool))))
        throw problems.validation([fieldError(field, 'No such pool.')]);
    }
  }
  /** The administrator's user, or 404; and a refusal when the change would leave no active owner. */
  async function administrator(userId: string, keepsOwner: boolean) {
    const user = await deps.users.getUser(ADMIN_POOL_ID, userId).catch(() => undefined);
    if (!user) throw problems.notFound('Administrator');
    if (!keepsOwner) {
      const owners = (await roles.listAllRoles()).filter((row) => row.role === 'owner' && row.user_id !== userId);
      const active = await Promise.all(owners.map((row) => deps.users.getUser(ADMIN_POOL_ID, row.user_id).catch(() => undefined)));
      if (!active.some((other) => other?.status === 'active')) throw problems.conflict('Tarn needs at least one active owner: make someone else owner first.');
    }
    return user;
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
        const { roles: wanted, ...user } = body as { roles: Role[] } & Record<string, unknown>;
        await checkRoles(wanted);
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
    poolRoute(
      {
        method: 'put',
        path: '/administrators/:userId/roles',
        summary: "Replace an administrator's roles (409 when no active owner would be left)",
        params: administratorParams,
        body: z.object(rolesField).strict(),
        status: 200,
        response: administratorResponse,
        problems: [409],
      },
      async function replaceAdministratorRoles(ctx, { params, body }) {
        onlyAdminPool(ctx.state.pool.id);
        await checkRoles(body.roles);
        const user = await administrator(
          params.userId,
          body.roles.some((role) => role.role === 'owner'),
        );
        await deps.db.transaction().execute(async (trx) => {
          const inTransaction = createRoleQueries(trx);
          await inTransaction.deleteRoles(user.id);
          for (const role of body.roles) await inTransaction.insertRole(user.id, role.role, role.pool ?? null);
        });
        return {
          id: user.id,
          email: user.email,
          status: user.status,
          roles: body.roles.map((role) => ({ role: role.role, pool: role.pool ?? null })),
          createdAt: user.createdAt,
        };
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/administrators/:userId',
        summary: 'Remove an administrator: their account and roles (409 when no active owner would be left)',
        params: administratorParams,
        status: 204,
        problems: [409],
      },
      async function removeAdministrator(ctx, { params }) {
        onlyAdminPool(ctx.state.pool.id);
        const user = await administrator(params.userId, false);
        await deps.users.deleteUser(ADMIN_POOL_ID, user.id);
      },
    ),
  ];
}
