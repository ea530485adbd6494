/**
 * The OpenAPI 3.1 description of the admin API, served at /admin/openapi.json.
 * Request bodies come from the same zod schemas that validate them, so they cannot drift.
 */
import { z } from 'zod';
import { createClientSchema, updateClientSchema } from '../clients/clients.schemas.js';
import { createGroupSchema, updateGroupSchema } from '../groups/groups.schemas.js';
import { createPoolSchema, rotateKeysSchema, updatePoolSchema } from '../pools/pools.schemas.js';
import { createUserSchema, updateUserSchema } from '../users/users.schemas.js';

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
const problem = { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const errors = { '400': problem, '401': problem, '404': problem };
const pool = { name: 'pool', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' } };
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const page = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
  { name: 'cursor', in: 'query', schema: { type: 'string' } },
];

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Tarn admin API', version: '1' },
  components: {
    securitySchemes: {
      adminToken: { type: 'http', scheme: 'bearer', description: 'TARN_ADMIN_TOKEN: every route.' },
      poolSecret: { type: 'http', scheme: 'basic', description: 'poolId:poolSecret: that pool\'s routes.' },
    },
    schemas: {
      Problem: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, pointer: { type: 'string' }, detail: { type: 'string' } } } },
        },
      },
    },
  },
  security: [{ adminToken: [] }, { poolSecret: [] }],
  paths: {
    '/admin/pools': {
      post: { summary: 'Create a pool (returns its two API secrets, once)', requestBody: json(createPoolSchema), responses: { '201': ok('The pool'), '409': problem, ...errors } },
      get: { summary: 'List pools', parameters: page, responses: { '200': ok('A page of pools'), ...errors } },
    },
    '/admin/pools/{pool}': {
      parameters: [pool],
      get: { summary: 'Get a pool', responses: { '200': ok('The pool'), ...errors } },
      patch: { summary: 'Change a pool', requestBody: json(updatePoolSchema), responses: { '200': ok('The pool'), ...errors } },
      delete: { summary: 'Delete a pool and everything in it', responses: { '204': { description: 'Deleted' }, ...errors } },
    },
    '/admin/pools/{pool}/secrets': { parameters: [pool], get: { summary: 'List API secrets (no values)', responses: { '200': ok('Secrets'), ...errors } } },
    '/admin/pools/{pool}/secrets/rotate': {
      parameters: [pool],
      post: { summary: 'Rotate and revoke: current revoked, next current, a new next (returned once)', responses: { '200': ok('Secrets'), ...errors } },
    },
    '/admin/pools/{pool}/keys': { parameters: [pool], get: { summary: 'List signing keys', responses: { '200': ok('Keys'), ...errors } } },
    '/admin/pools/{pool}/keys/rotate': {
      parameters: [pool],
      post: { summary: 'Rotate signing keys; revoke: true revokes the current key at once', requestBody: json(rotateKeysSchema), responses: { '200': ok('Keys'), ...errors } },
    },
    '/admin/pools/{pool}/clients': {
      parameters: [pool],
      post: { summary: 'Create an application (secret returned once)', requestBody: json(createClientSchema), responses: { '201': ok('The client'), ...errors } },
      get: { summary: 'List applications', parameters: page, responses: { '200': ok('A page of clients'), ...errors } },
    },
    '/admin/pools/{pool}/clients/{clientId}': {
      parameters: [pool, idParam('clientId')],
      get: { summary: 'Get an application', responses: { '200': ok('The client'), ...errors } },
      patch: { summary: 'Change an application', requestBody: json(updateClientSchema), responses: { '200': ok('The client'), ...errors } },
      delete: { summary: 'Delete an application', responses: { '204': { description: 'Deleted' }, ...errors } },
    },
    '/admin/pools/{pool}/clients/{clientId}/secret/rotate': {
      parameters: [pool, idParam('clientId')],
      post: { summary: 'Replace the client secret (returned once)', responses: { '200': ok('The client'), '409': problem, ...errors } },
    },
    '/admin/pools/{pool}/users': {
      parameters: [pool],
      post: { summary: 'Create a user: mode "password" (active at once) or "invite" (status new, activation mail)', requestBody: json(createUserSchema), responses: { '201': ok('The user'), '409': problem, ...errors } },
      get: {
        summary: 'List users',
        parameters: [
          ...page,
          { name: 'email', in: 'query', description: 'Exact email, case-insensitive', schema: { type: 'string' } },
          { name: 'emailPrefix', in: 'query', description: 'Email prefix, case-insensitive (% and _ are literal)', schema: { type: 'string' } },
          { name: 'status', in: 'query', schema: { enum: ['new', 'active', 'disabled'] } },
        ],
        responses: { '200': ok('A page of users'), ...errors },
      },
    },
    '/admin/pools/{pool}/users/{userId}': {
      parameters: [pool, idParam('userId')],
      get: { summary: 'Get a user', responses: { '200': ok('The user'), ...errors } },
      patch: { summary: 'Change a user', requestBody: json(updateUserSchema), responses: { '200': ok('The user'), ...errors } },
      delete: { summary: 'Delete a user (ends their sessions and tokens)', responses: { '204': { description: 'Deleted' }, ...errors } },
    },
    '/admin/pools/{pool}/users/{userId}/invitation': {
      parameters: [pool, idParam('userId')],
      post: { summary: 'Send the invitation again (a new link and code; the previous ones stop working)', responses: { '202': ok('{sentTo, expiresAt}'), '409': problem, '503': problem, ...errors } },
    },
    '/admin/pools/{pool}/users/{userId}/lockout': {
      parameters: [pool, idParam('userId')],
      get: { summary: 'The user\'s sign-in lockout: {locked, failures, lockedUntil, windowStartedAt}', responses: { '200': ok('The lockout'), ...errors } },
      delete: { summary: 'Clear the lockout', responses: { '204': { description: 'Cleared' }, ...errors } },
    },
    '/admin/pools/{pool}/audit': {
      parameters: [pool],
      get: {
        summary: 'The pool\'s audit log, newest first: admin actions and security events',
        parameters: [
          ...page,
          { name: 'action', in: 'query', schema: { type: 'string' }, description: 'e.g. users.create, keys.rotate, sign_in.failure' },
          { name: 'actor', in: 'query', schema: { type: 'string' }, description: 'admin, pool_secret, user, anonymous, system; or kind:id' },
          { name: 'outcome', in: 'query', schema: { type: 'string', enum: ['success', 'failure'] } },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: { '200': ok('A page of audit events'), ...errors },
      },
    },
    '/admin/pools/{pool}/users/{userId}/passkeys': {
      parameters: [pool, idParam('userId')],
      get: { summary: "List a user's passkeys", parameters: page, responses: { '200': ok('A page of passkeys'), ...errors } },
    },
    '/admin/pools/{pool}/users/{userId}/passkeys/{passkeyId}': {
      parameters: [pool, idParam('userId'), idParam('passkeyId')],
      delete: { summary: "Delete a user's passkey", responses: { '204': { description: 'Deleted' }, ...errors } },
    },
    '/admin/pools/{pool}/users/{userId}/groups': {
      parameters: [pool, idParam('userId')],
      get: { summary: 'A user\'s groups, direct and inherited through nesting (`direct` tells which), by name', parameters: page, responses: { '200': ok('A page of groups'), ...errors } },
    },
    '/admin/pools/{pool}/groups': {
      parameters: [pool],
      post: { summary: 'Create a group (name unique in the pool, case-insensitively; parentId nests it)', requestBody: json(createGroupSchema), responses: { '201': ok('The group'), '409': problem, ...errors } },
      get: {
        summary: 'List groups by name',
        parameters: [...page, { name: 'parentId', in: 'query', schema: { type: 'string' } }, { name: 'name', in: 'query', schema: { type: 'string' } }],
        responses: { '200': ok('A page of groups'), ...errors },
      },
    },
    '/admin/pools/{pool}/groups/{groupId}': {
      parameters: [pool, idParam('groupId')],
      get: { summary: 'Get a group', responses: { '200': ok('The group'), ...errors } },
      patch: { summary: 'Rename, describe or move a group (parentId null: a root); a move that makes a cycle is 409', requestBody: json(updateGroupSchema), responses: { '200': ok('The group'), '409': problem, ...errors } },
      delete: {
        summary: 'Delete a group; one with child groups only with cascade=true, which deletes the whole subtree',
        parameters: [{ name: 'cascade', in: 'query', schema: { enum: ['true', 'false'], default: 'false' } }],
        responses: { '204': { description: 'Deleted' }, '409': problem, ...errors },
      },
    },
    '/admin/pools/{pool}/groups/{groupId}/members': {
      parameters: [pool, idParam('groupId')],
      get: {
        summary: 'Members of a group; nested=true adds the members of every group below it (`direct` tells which)',
        parameters: [...page, { name: 'nested', in: 'query', schema: { enum: ['true', 'false'], default: 'false' } }],
        responses: { '200': ok('A page of users'), ...errors },
      },
    },
    '/admin/pools/{pool}/groups/{groupId}/members/{userId}': {
      parameters: [pool, idParam('groupId'), idParam('userId')],
      put: { summary: 'Add a user of the pool to the group (idempotent)', responses: { '204': { description: 'A member' }, ...errors } },
      delete: { summary: 'Remove a user from the group (idempotent)', responses: { '204': { description: 'Not a member' }, ...errors } },
    },
  },
};
