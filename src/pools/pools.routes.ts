/** /admin/pools: pools, their API secrets and signing keys. */
import type Router from '@koa/router';
import { authorizedPool, requireAdmin } from '../admin/admin-auth.js';
import type { JsonBody } from '../admin/admin.router.js';
import { annotateAudit } from '../audit/audit.middleware.js';
import { parseInput } from '../http/validation.js';
import { createPoolSchema, rotateKeysSchema, updatePoolSchema } from './pools.schemas.js';
import type { PoolService } from './pools.service.js';

function idWithStatus(items: { id: string; status: string }[], status: string): string | undefined {
  return items.find((item) => item.status === status)?.id;
}

export function registerPoolRoutes(router: Router, pools: PoolService, body: JsonBody): void {
  router.post('/pools', async function createPool(ctx) {
    requireAdmin(ctx);
    ctx.status = 201;
    ctx.body = await pools.createPool(parseInput(createPoolSchema, await body(ctx)));
    ctx.set('Location', `/admin/pools/${(ctx.body as { id: string }).id}`);
  });

  router.get('/pools', async function listPools(ctx) {
    requireAdmin(ctx);
    ctx.body = await pools.listPools(ctx.query);
  });

  router.get('/pools/:pool', async function getPool(ctx) {
    ctx.body = await pools.getPool(authorizedPool(ctx, ctx.params.pool!));
  });

  router.patch('/pools/:pool', async function updatePool(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    ctx.body = await pools.updatePool(poolId, parseInput(updatePoolSchema, await body(ctx)));
  });

  router.delete('/pools/:pool', async function deletePool(ctx) {
    requireAdmin(ctx);
    await pools.deletePool(ctx.params.pool!);
    ctx.status = 204;
  });

  router.get('/pools/:pool/secrets', async function listSecrets(ctx) {
    ctx.body = await pools.listSecrets(authorizedPool(ctx, ctx.params.pool!));
  });

  router.post('/pools/:pool/secrets/rotate', async function rotateSecrets(ctx) {
    const rotated = await pools.rotateSecrets(authorizedPool(ctx, ctx.params.pool!));
    annotateAudit(ctx, { details: { nextSecretId: idWithStatus(rotated.items, 'next'), currentSecretId: idWithStatus(rotated.items, 'current') } });
    ctx.body = rotated;
  });

  router.get('/pools/:pool/keys', async function listKeys(ctx) {
    ctx.body = await pools.listKeys(authorizedPool(ctx, ctx.params.pool!));
  });

  router.post('/pools/:pool/keys/rotate', async function rotateKeys(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    const input = parseInput(rotateKeysSchema, (await body(ctx)) ?? {});
    const keys = await pools.rotateKeys(poolId, input);
    annotateAudit(ctx, { details: { revoke: input.revoke, currentKids: keys.items.filter((key) => key.status === 'current').map((key) => key.kid) } });
    ctx.body = keys;
  });
}
