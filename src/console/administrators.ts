/**
 * Who an administrator is to the admin API: a user of the admin pool, active, with roles.
 * The console's access tokens (RFC 9068 JWTs of the admin pool, audience the admin API) are
 * verified here, locally, with the admin pool's published keys; then the user's status and
 * roles are read afresh, so disabling an administrator or taking a role away takes effect on
 * their next request, whatever their token says.
 */
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import type { Db } from '../db/database.js';
import { ADMIN_API_SCOPE, ADMIN_POOL_ID, adminApiAudience, CONSOLE_CLIENT_ID } from '../oidc/built-in-clients.js';
import { issuerFor } from '../pools/pools.service.js';
import { createRoleQueries } from './roles.queries.js';

export type PoolRole = 'admin' | 'viewer';

export interface AdministratorPrincipal {
  kind: 'administrator';
  userId: string;
  email: string;
  owner: boolean;
  /** The pools this administrator may reach, and how (owners reach every pool). */
  pools: Record<string, PoolRole>;
}

export interface AdministratorDeps {
  db: Db;
  publicUrl: string;
  findActiveUser(poolId: string, userId: string): Promise<{ id: string; email: string } | undefined>;
}

/** The role of a principal on a pool: owners are admins of every pool; undefined when the pool is out of reach. */
export function roleOn(principal: AdministratorPrincipal, poolId: string): PoolRole | undefined {
  if (poolId === ADMIN_POOL_ID) return principal.owner ? 'admin' : undefined;
  return principal.owner ? 'admin' : principal.pools[poolId];
}

export function createAdministrators(deps: AdministratorDeps) {
  const roles = createRoleQueries(deps.db);
  const issuer = issuerFor(deps.publicUrl, ADMIN_POOL_ID);
  const audience = adminApiAudience(deps.publicUrl);

  async function adminPoolKeys() {
    const rows = await deps.db
      .selectFrom('signing_keys')
      .select(['public_jwk'])
      .where('pool_id', '=', ADMIN_POOL_ID)
      .where('status', '!=', 'revoked')
      .execute();
    return createLocalJWKSet({ keys: rows.map((row) => row.public_jwk as JWK) });
  }

  /** The principal of an active administrator with at least one role, or undefined. */
  async function principalOf(userId: string): Promise<AdministratorPrincipal | undefined> {
    const user = await deps.findActiveUser(ADMIN_POOL_ID, userId);
    if (!user) return undefined;
    const rows = await roles.listRolesOf(userId);
    if (!rows.length) return undefined;
    const pools: Record<string, PoolRole> = {};
    for (const row of rows) if (row.managed_pool_id && row.role !== 'owner') pools[row.managed_pool_id] = row.role;
    return { kind: 'administrator', userId: user.id, email: user.email, owner: rows.some((row) => row.role === 'owner'), pools };
  }

  return {
    principalOf,

    /** A console access token → its administrator, or undefined (bad signature, expired, wrong audience, disabled, no role). */
    async verifyAccessToken(token: string): Promise<AdministratorPrincipal | undefined> {
      if (token.split('.').length !== 3) return undefined;
      const keys = await adminPoolKeys();
      const payload = await jwtVerify(token, keys, { issuer, audience, typ: 'at+jwt', algorithms: ['RS256', 'ES256'] }).then(
        (verified) => verified.payload,
        () => undefined,
      );
      if (!payload || payload.client_id !== CONSOLE_CLIENT_ID || typeof payload.sub !== 'string') return undefined;
      if (typeof payload.scope !== 'string' || !payload.scope.split(' ').includes(ADMIN_API_SCOPE)) return undefined;
      // Database faults propagate (503), they are not a bad token.
      return principalOf(payload.sub);
    },
  };
}

export type Administrators = ReturnType<typeof createAdministrators>;
