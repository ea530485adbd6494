/**
 * /admin/pools: pools, their API secrets and signing keys. Creating and listing pools
 * (and deleting one) needs the admin token; the rest is open to the pool's own secret.
 */
import { changeRecorder } from '../audit/audit.middleware.js';
import { adminRoute, poolRoute } from '../admin/pool-scope.js';
import { pageOf, pageQuery } from '../http/pagination.js';
import { z } from 'zod';
import {
  createdPoolResponse,
  createPoolSchema,
  keysResponse,
  poolResponse,
  rotatedSecretsResponse,
  rotateKeysSchema,
  secretsResponse,
  updatePoolSchema,
} from './pools.schemas.js';
import type { PoolService } from './pools.service.js';
import { ADMIN_POOL_ID } from '../oidc/built-in-clients.js';
import { problems } from '../http/problem.js';

/** Routes under /admin/pools that are not about one pool. */
export function poolCollectionRoutes(pools: PoolService) {
  return [
    adminRoute(
      {
        method: 'post',
        path: '/pools',
        summary: 'Create a pool (returns its two API secrets, once)',
        adminOnly: true,
        body: createPoolSchema,
        status: 201,
        response: createdPoolResponse,
        problems: [409],
      },
      async function createPool(ctx, { body }) {
        const created = await pools.createPool(body, changeRecorder(ctx, 201));
        ctx.set('Location', `/admin/pools/${created.id}`);
        return created;
      },
    ),
    adminRoute(
      {
        method: 'get',
        path: '/pools',
        summary: 'List pools',
        adminOnly: true,
        query: z.object(pageQuery).strict(),
        status: 200,
        response: pageOf(poolResponse),
      },
      async function listPools(ctx, { query }) {
        // An administrator other than an owner sees the pools their roles name (ADR 1000).
        const principal = ctx.state.principal;
        return pools.listPools(query, principal.kind === 'administrator' && !principal.owner ? Object.keys(principal.pools) : undefined);
      },
    ),
  ];
}

/** Routes under /admin/pools/{pool}. */
export function poolRoutes(pools: PoolService) {
  return [
    poolRoute({ method: 'get', path: '/', summary: 'Get a pool', status: 200, response: poolResponse }, async function getPool(ctx) {
      return pools.toPoolResponse(ctx.state.pool);
    }),
    poolRoute(
      { method: 'patch', path: '/', summary: 'Change a pool', body: updatePoolSchema, status: 200, response: poolResponse },
      async function updatePool(ctx, { body }) {
        return pools.updatePool(ctx.state.pool, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/', summary: 'Delete a pool and everything in it', adminOnly: true, status: 204, problems: [409] },
      async function deletePool(ctx) {
        if (ctx.state.pool.id === ADMIN_POOL_ID) throw problems.conflict("The administrators' pool cannot be deleted.");
        await pools.deletePool(ctx.state.pool.id);
      },
    ),
    poolRoute(
      { method: 'get', path: '/secrets', summary: 'List API secrets (no values)', status: 200, response: secretsResponse },
      async function listSecrets(ctx) {
        return pools.listSecrets(ctx.state.pool.id);
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/secrets/rotate',
        summary: 'Rotate and revoke: current revoked, next current, a new next (returned once)',
        status: 200,
        response: rotatedSecretsResponse,
      },
      async function rotateSecrets(ctx) {
        return pools.rotateSecrets(ctx.state.pool.id, changeRecorder(ctx, 200));
      },
    ),
    poolRoute({ method: 'get', path: '/keys', summary: 'List signing keys', status: 200, response: keysResponse }, async function listKeys(ctx) {
      return pools.listKeys(ctx.state.pool.id);
    }),
    poolRoute(
      {
        method: 'post',
        path: '/keys/rotate',
        summary: 'Rotate signing keys; revoke: true revokes the current key at once',
        body: rotateKeysSchema,
        bodyOptional: true,
        status: 200,
        response: keysResponse,
      },
      async function rotateKeys(ctx, { body }) {
        return pools.rotateKeys(ctx.state.pool.id, body, changeRecorder(ctx, 200));
      },
    ),
  ];
}
