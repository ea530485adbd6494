/**
 * The OpenAPI 3.1 description of the admin API, served at /admin/openapi.json, made from
 * the routes' own declarations (http/guard.ts): the schemas that validate a request and
 * check a response are the ones documented, so the description cannot drift from the code.
 */
import { z } from 'zod';
import type { DocumentedRoute, DocumentedSpec } from '../http/guard.js';
import { POOL_ID } from '../pools/pools.schemas.js';

type JsonSchema = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...document } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    // Dates leave as RFC 3339 strings (JSON.stringify).
    override: (context) => {
      if (context.zodSchema._zod.def.type === 'date') Object.assign(context.jsonSchema, { type: 'string', format: 'date-time' });
    },
  });
  return document;
}

const json = (schema: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: toJsonSchema(schema, io) } });
const problem = { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

/** "/users/:userId" under "/admin/pools/{pool}" → "/admin/pools/{pool}/users/{userId}". */
function openApiPath(prefix: string, path: string): string {
  return `${prefix}${path === '/' ? '' : path}`.replace(/:(\w+)/g, '{$1}');
}

function parametersOf(spec: DocumentedSpec): JsonSchema[] {
  const path = Object.entries(spec.params?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: toJsonSchema(schema as z.ZodType, 'input'),
  }));
  const query = Object.entries(spec.query?.shape ?? {}).map(([name, schema]) => {
    const field = schema as z.ZodType;
    const document = toJsonSchema(field, 'input');
    const { description, ...rest } = document;
    return { name, in: 'query', required: !field.safeParse(undefined).success, ...(description ? { description } : {}), schema: rest };
  });
  return [...path, ...query];
}

function operationOf(spec: DocumentedSpec, name: string): JsonSchema {
  const success = spec.response
    ? { description: STATUS_TEXT[spec.status] ?? 'Success', content: json(spec.response, 'output') }
    : spec.streamed
      ? {
          description: `${STATUS_TEXT[spec.status] ?? 'Success'}: ${spec.streamed.mediaType}, one item a line`,
          content: { [spec.streamed.mediaType]: { schema: toJsonSchema(spec.streamed.item, 'output') } },
        }
      : { description: STATUS_TEXT[spec.status] ?? 'Success' };
  const problems = [400, 401, 404, ...(spec.adminOnly ? [403] : []), ...(spec.problems ?? [])].sort((a, b) => a - b);
  const parameters = parametersOf(spec);
  return {
    operationId: name,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.adminOnly ? { security: [{ adminToken: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body ? { requestBody: { required: !spec.bodyOptional, content: json(spec.body, 'input') } } : {}),
    responses: { [String(spec.status)]: success, ...Object.fromEntries(problems.map((status) => [String(status), problem])) },
  };
}

export interface DocumentedRoutes {
  /** Routes mounted under /admin. */
  admin: DocumentedRoute[];
  /** Routes mounted under /admin/pools/{pool}. */
  pool: DocumentedRoute[];
}

export function buildOpenApiDocument(routes: DocumentedRoutes) {
  const paths: Record<string, Record<string, unknown>> = {};
  const add = (prefix: string, route: DocumentedRoute, extra: JsonSchema[]) => {
    const path = openApiPath(prefix, route.spec.path);
    const item = (paths[path] ??= extra.length ? { parameters: extra } : {});
    item[route.spec.method] = operationOf(route.spec, route.name);
  };
  for (const route of routes.admin) add('/admin', route, []);
  const pool = { name: 'pool', in: 'path', required: true, schema: { type: 'string', pattern: POOL_ID.source } };
  for (const route of routes.pool) add('/admin/pools/{pool}', route, [pool]);
  return {
    openapi: '3.1.0',
    info: { title: 'Tarn admin API', version: '1' },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'TARN_ADMIN_TOKEN: every route.' },
        poolSecret: { type: 'http', scheme: 'basic', description: "poolId:poolSecret: that pool's routes." },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'pointer', 'detail'],
                properties: { field: { type: 'string' }, pointer: { type: 'string' }, detail: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    security: [{ adminToken: [] }, { poolSecret: [] }],
    paths,
  };
}
