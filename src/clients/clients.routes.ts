/** /admin/pools/{pool}/clients: applications. */
import type Router from '@koa/router';
import { authorizedPool } from '../admin/admin-auth.js';
import type { JsonBody } from '../admin/admin.router.js';
import { parseInput } from '../http/validation.js';
import { createClientSchema, updateClientSchema } from './clients.schemas.js';
import type { ClientService } from './clients.service.js';

export function registerClientRoutes(router: Router, clients: ClientService, body: JsonBody): void {
  router.post('/pools/:pool/clients', async function createClient(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    const created = await clients.createClient(poolId, parseInput(createClientSchema, await body(ctx)));
    ctx.status = 201;
    ctx.set('Location', `/admin/pools/${poolId}/clients/${created.clientId}`);
    ctx.body = created;
  });

  router.get('/pools/:pool/clients', async function listClients(ctx) {
    ctx.body = await clients.listClients(authorizedPool(ctx, ctx.params.pool!), ctx.query);
  });

  router.get('/pools/:pool/clients/:clientId', async function getClient(ctx) {
    ctx.body = await clients.getClient(authorizedPool(ctx, ctx.params.pool!), ctx.params.clientId!);
  });

  router.patch('/pools/:pool/clients/:clientId', async function updateClient(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    ctx.body = await clients.updateClient(poolId, ctx.params.clientId!, parseInput(updateClientSchema, await body(ctx)));
  });

  router.post('/pools/:pool/clients/:clientId/secret/rotate', async function rotateClientSecret(ctx) {
    ctx.body = await clients.rotateClientSecret(authorizedPool(ctx, ctx.params.pool!), ctx.params.clientId!);
  });

  router.delete('/pools/:pool/clients/:clientId', async function deleteClient(ctx) {
    await clients.deleteClient(authorizedPool(ctx, ctx.params.pool!), ctx.params.clientId!);
    ctx.status = 204;
  });
}
