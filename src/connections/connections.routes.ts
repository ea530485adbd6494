/**
 * /admin/pools/{pool}/connections: upstream identity providers of the pool, and
 * /admin/pools/{pool}/users/{userId}/identities: the identities a user holds through them.
 */
import { poolRoute } from '../admin/pool-scope.js';
import { changeRecorder } from '../audit/audit.middleware.js';
import {
  connectionIdParams,
  connectionListResponse,
  connectionResponse,
  createConnectionSchema,
  identityListResponse,
  identityParams,
  updateConnectionSchema,
} from './connections.schemas.js';
import { userIdParams } from '../users/users.schemas.js';
import type { ConnectionService } from './connections.service.js';

export function connectionRoutes(connections: ConnectionService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/connections',
        summary: 'Create a connection to an upstream identity provider (type oidc or oauth2, or a preset: google, microsoft, github, apple)',
        body: createConnectionSchema,
        status: 201,
        response: connectionResponse,
        problems: [409],
      },
      async function createConnection(ctx, { body }) {
        const created = await connections.createConnection(ctx.state.pool, body, changeRecorder(ctx, 201));
        ctx.set('Location', `/admin/pools/${ctx.state.pool.id}/connections/${created.id}`);
        return created;
      },
    ),
    poolRoute(
      { method: 'get', path: '/connections', summary: "List the pool's connections by name", status: 200, response: connectionListResponse },
      async function listConnections(ctx) {
        return connections.listConnections(ctx.state.pool.id);
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/connections/:connectionId',
        summary: 'Get a connection (its secret is never answered)',
        params: connectionIdParams,
        status: 200,
        response: connectionResponse,
      },
      async function getConnection(ctx, { params }) {
        return connections.getConnection(ctx.state.pool.id, params.connectionId);
      },
    ),
    poolRoute(
      {
        method: 'patch',
        path: '/connections/:connectionId',
        summary: 'Change a connection; a new clientSecret replaces the sealed one',
        params: connectionIdParams,
        body: updateConnectionSchema,
        status: 200,
        response: connectionResponse,
      },
      async function updateConnection(ctx, { params, body }) {
        return connections.updateConnection(ctx.state.pool, params.connectionId, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/connections/:connectionId',
        summary: 'Delete a connection and every identity linked through it',
        params: connectionIdParams,
        status: 204,
      },
      async function deleteConnection(ctx, { params }) {
        await connections.deleteConnection(ctx.state.pool.id, params.connectionId, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/users/:userId/identities',
        summary: "A user's linked upstream identities",
        params: userIdParams,
        status: 200,
        response: identityListResponse,
      },
      async function listIdentities(ctx, { params }) {
        return connections.listIdentities(ctx.state.pool.id, params.userId);
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/users/:userId/identities/:connectionName',
        summary: "Unlink the user's identity of a connection (by connection name)",
        params: identityParams,
        status: 204,
      },
      async function unlinkIdentity(ctx, { params }) {
        await connections.unlinkIdentity(ctx.state.pool.id, params.userId, params.connectionName, changeRecorder(ctx, 204));
      },
    ),
  ];
}
