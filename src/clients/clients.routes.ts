/** /admin/pools/{pool}/clients: applications. */
import { changeRecorder } from '../audit/audit.middleware.js';
import { z } from 'zod';
import { poolRoute } from '../admin/pool-scope.js';
import { pageOf, pageQuery } from '../http/pagination.js';
import { clientIdParams, clientResponse, clientWithSecretResponse, createClientSchema, updateClientSchema } from './clients.schemas.js';
import type { ClientService } from './clients.service.js';

export function clientRoutes(clients: ClientService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/clients',
        summary: 'Create an application (secret returned once)',
        body: createClientSchema,
        status: 201,
        response: clientWithSecretResponse,
        problems: [409],
      },
      async function createClient(ctx, { body }) {
        const created = await clients.createClient(ctx.state.pool.id, body, changeRecorder(ctx, 201));
        ctx.set('Location', `/admin/pools/${ctx.state.pool.id}/clients/${created.clientId}`);
        return created;
      },
    ),
    poolRoute(
      { method: 'get', path: '/clients', summary: 'List applications', query: z.object(pageQuery).strict(), status: 200, response: pageOf(clientResponse) },
      async function listClients(ctx, { query }) {
        return clients.listClients(ctx.state.pool.id, query);
      },
    ),
    poolRoute(
      { method: 'get', path: '/clients/:clientId', summary: 'Get an application', params: clientIdParams, status: 200, response: clientResponse },
      async function getClient(ctx, { params }) {
        return clients.getClient(ctx.state.pool.id, params.clientId);
      },
    ),
    poolRoute(
      {
        method: 'patch',
        path: '/clients/:clientId',
        summary: 'Change an application',
        params: clientIdParams,
        body: updateClientSchema,
        status: 200,
        response: clientWithSecretResponse,
      },
      async function updateClient(ctx, { params, body }) {
        return clients.updateClient(ctx.state.pool.id, params.clientId, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/clients/:clientId/secret/rotate',
        summary: 'Replace the client secret (returned once)',
        params: clientIdParams,
        status: 200,
        response: clientWithSecretResponse,
        problems: [409],
      },
      async function rotateClientSecret(ctx, { params }) {
        return clients.rotateClientSecret(ctx.state.pool.id, params.clientId, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/clients/:clientId', summary: 'Delete an application', params: clientIdParams, status: 204 },
      async function deleteClient(ctx, { params }) {
        await clients.deleteClient(ctx.state.pool.id, params.clientId, changeRecorder(ctx, 204));
      },
    ),
  ];
}
