/**
 * One declaration per JSON route: its method and path, what it accepts (path parameters,
 * query, body), what it answers (status and response schema) and a one-line summary.
 * The same declaration
 * - validates the request: every mistake is a 400 problem naming the field, and a query
 *   parameter the route does not know is one too (query schemas are strict);
 * - types the handler: it receives parsed params, query and body, and must return what
 *   the response schema describes (checked again at run time: a mismatch is our fault, a 500);
 * - documents the route in the OpenAPI description (admin/openapi.ts).
 */
import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import type { Context } from 'koa';
import { parseInput } from './validation.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

type AnySchema = z.ZodType;
type ObjectSchema = z.ZodObject;

/** What a route declares; P, Q, B and R are zod schemas (R the success response). */
export interface RouteSpec<P extends ObjectSchema, Q extends ObjectSchema, B extends AnySchema | undefined, R extends AnySchema | undefined> {
  method: Method;
  /** Koa path relative to the router the route is mounted on, e.g. "/clients/:clientId". */
  path: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The body may be left out; it then parses as {}. */
  bodyOptional?: boolean;
  /** A larger body limit than the server's default, for a route that takes an uploaded file. */
  bodyLimitBytes?: number;
  /** The success status; 204 answers no body. */
  status: number;
  response?: R;
  /** Problem statuses the route can answer besides the ones every route can (400, 401, 404). */
  problems?: number[];
  /**
   * The handler streams its answer itself (ctx.body), one `item` a line in `mediaType`
   * (e.g. an NDJSON export): documented, not checked, since it is never held whole.
   */
  streamed?: { mediaType: string; item: AnySchema };
  /** Only the admin token may call it (a pool secret gets 403). */
  adminOnly?: boolean;
}

type Parsed<S, Fallback> = S extends AnySchema ? z.output<S> : Fallback;
type Answer<R> = R extends AnySchema ? z.input<R> : void;

export interface Guarded<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

/** How the mounting router reads JSON bodies (with its size limit). */
export interface GuardOptions<StateT> {
  readJson(ctx: Context, limitBytes?: number): Promise<unknown>;
  /** Runs before anything is parsed, e.g. the admin-token check of adminOnly routes. */
  authorize?(ctx: { state: StateT }, spec: DocumentedSpec): void;
}

export type DocumentedSpec = RouteSpec<ObjectSchema, ObjectSchema, AnySchema | undefined, AnySchema | undefined>;

/** What the OpenAPI description reads of a route: its declaration and its handler's name. */
export interface DocumentedRoute {
  spec: DocumentedSpec;
  name: string;
}

/** A declared route, its types erased: what routers mount and the OpenAPI generator reads. */
export interface GuardedRoute<StateT> extends DocumentedRoute {
  middleware(options: GuardOptions<StateT>): (ctx: RouterContext<StateT>) => Promise<void>;
}

const noParams = z.object({});
const noQuery = z.object({}).strict();

/**
 * The route declarer of one kind of router: `routesFor<PoolState>()` gives handlers a
 * context whose state has the pool. (Curried so that the schemas' types are inferred.)
 */
export function routesFor<StateT>() {
  return function defineRoute<
    P extends ObjectSchema = typeof noParams,
    Q extends ObjectSchema = typeof noQuery,
    B extends AnySchema | undefined = undefined,
    R extends AnySchema | undefined = undefined,
  >(
    spec: RouteSpec<P, Q, B, R>,
    handler: (ctx: RouterContext<StateT>, input: Guarded<z.output<P>, z.output<Q>, Parsed<B, undefined>>) => Promise<Answer<R>>,
  ): GuardedRoute<StateT> {
    const params: ObjectSchema = spec.params ?? noParams;
    const query: ObjectSchema = spec.query ?? noQuery;
    const documented = spec as unknown as DocumentedSpec;
    return {
      spec: documented,
      name: handler.name,
      middleware(options) {
        return async function guard(ctx) {
          options.authorize?.(ctx, documented);
          const input = {
            params: parseInput(params, ctx.params),
            query: parseInput(query, ctx.query, 'query'),
            body: undefined,
          } as Guarded<z.output<P>, z.output<Q>, Parsed<B, undefined>>;
          if (spec.body) {
            const raw = await options.readJson(ctx, spec.bodyLimitBytes);
            input.body = parseInput(spec.body, raw === undefined && spec.bodyOptional ? {} : raw) as Parsed<B, undefined>;
          }
          const answer = await handler(ctx, input);
          ctx.status = spec.status;
          if (spec.response) {
            const checked = spec.response.safeParse(answer);
            if (!checked.success) throw new Error(`${spec.method.toUpperCase()} ${spec.path} answered outside its response schema: ${checked.error.message}`);
            ctx.body = answer;
          }
        };
      },
    };
  };
}

/** A point in time in a response: a Date here, an RFC 3339 string on the wire. */
/** An absolute http(s) URL (links an administrator sets: a pool's logo, its terms and privacy pages). */
export const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (value) => {
      try {
        return ['https:', 'http:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: 'Must be an absolute http(s) URL.' },
  );

export const timestamp = z.date();
