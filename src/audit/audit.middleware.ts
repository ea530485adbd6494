/**
 * Records every admin write (POST, PUT, PATCH, DELETE under /admin/pools) in the pool's
 * audit log, after the route ran, whatever route it is: routes added later are covered
 * without edits. Reads are not recorded (they change nothing and would drown the trail);
 * refused credentials on a pool's routes are (a security event).
 *
 * The action is derived from the route template, e.g.
 *   POST   /admin/pools                                → pool.create
 *   PATCH  /admin/pools/:pool                          → pool.update
 *   POST   /admin/pools/:pool/users                    → users.create
 *   DELETE /admin/pools/:pool/users/:userId            → users.delete
 *   POST   /admin/pools/:pool/keys/rotate              → keys.rotate
 *   PUT    /admin/pools/:pool/groups/:groupId/members/:userId → groups.members.put
 * The target is the last id in the path, or the created resource (Location header),
 * or what the route said through annotateAudit().
 */
import type Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import type { Next } from '../http/state.js';
import type { AdminState, Principal } from '../admin/admin-auth.js';
import { toAppError } from '../http/errors.js';
import type { AuditActor, AuditRequestScope, AuditService, AuditTarget, EventBatches, RecordChange } from './audit.service.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const VERBS: Record<string, string> = { POST: 'create', PUT: 'put', PATCH: 'update', DELETE: 'delete' };

export interface AdminRouteMatch {
  /** The route template, e.g. "/admin/pools/:pool/users/:userId". */
  template: string;
  params: Record<string, string>;
}

/** The route a request would take through the router (without running it). */
export function matchAdminRoute(router: Router<AdminState>, path: string, method: string): AdminRouteMatch | undefined {
  const matched = router.match(path, method);
  const layer = matched.pathAndMethod.toReversed().find((candidate) => candidate.methods.length > 0);
  if (!layer) return undefined;
  const params = layer.params(path, layer.captures(path) ?? [], {});
  return { template: layer.path as string, params };
}

function singular(noun: string): string {
  return noun.endsWith('ies') ? `${noun.slice(0, -3)}y` : noun.endsWith('s') ? noun.slice(0, -1) : noun;
}

/** action and target of a write, from its template and params. */
export function describeAdminWrite(method: string, match: AdminRouteMatch): { action: string; target?: AuditTarget } {
  const segments = match.template
    .replace(/^\/admin\/pools\/?/, '')
    .split('/')
    .filter(Boolean);
  if (segments[0] === ':pool') segments.shift();
  const literals = segments.filter((segment) => !segment.startsWith(':'));
  const last = segments[segments.length - 1];
  const previous = segments[segments.length - 2];
  let target: AuditTarget | undefined;
  for (let i = segments.length - 1; i >= 0; i -= 1) {
    const segment = segments[i]!;
    if (segment.startsWith(':') && i > 0) {
      // ":userId" names its type; otherwise the collection before it does ("users/:id").
      const name = segment.slice(1);
      const type = /^[a-z]+Id$/.test(name) ? name.slice(0, -2) : singular(segments[i - 1]!);
      target = { type, id: match.params[name] ?? '' };
      break;
    }
  }
  if (literals.length === 0) {
    return { action: `pool.${VERBS[method] ?? method.toLowerCase()}`, target: match.params.pool ? { type: 'pool', id: match.params.pool } : undefined };
  }
  // POST to a literal after another literal ("keys/rotate", "secret/rotate") is an operation, not a creation.
  if (method === 'POST' && last && !last.startsWith(':') && previous && !previous.startsWith(':')) {
    return { action: literals.join('.'), target };
  }
  return { action: `${literals.join('.')}.${VERBS[method] ?? method.toLowerCase()}`, target };
}

function actorOf(principal: Principal | undefined): AuditActor {
  if (!principal) return { kind: 'anonymous' };
  if (principal.kind === 'admin') return { kind: 'admin' };
  if (principal.kind === 'administrator') return { kind: 'administrator', id: principal.userId };
  return { kind: 'pool_secret', id: principal.secretId };
}

function createdTarget(ctx: AuditedContext, fallbackType: string): AuditTarget | undefined {
  const location = ctx.response.get('location');
  if (!location) return undefined;
  const id = location.split('/').pop();
  return id ? { type: fallbackType, id: decodeURIComponent(id) } : undefined;
}

/** Adds what the route knows (a target, rotated ids) to the admin event of the request, if one is pending. */
/** Admin requests, before (principal unset) and after authentication. */
type AuditedContext = ParameterizedContext<Partial<AdminState>>;

export function annotateAudit(ctx: { state: Partial<AdminState> }, note: { target?: AuditTarget; details?: Record<string, unknown> }): void {
  const pending = ctx.state.audit;
  if (!pending) return;
  if (note.target) pending.target = note.target;
  if (note.details) Object.assign(pending.details, note.details);
}

/**
 * The request's event recorder for a service that changes something in a transaction
 * (changeWithEvents, audit.service.ts): the answer's status is the route's.
 */
export function changeRecorder(ctx: { state: Partial<AdminState> }, status: number): RecordChange | undefined {
  const writeWithin = ctx.state.audit?.writeWithin;
  return writeWithin && ((executor, events) => writeWithin(executor, status, events));
}

/**
 * The request's events of a change of many subjects, written set-based by the change's own
 * statements (EventBatches, audit.service.ts), with the request's actor, ids, IP and `status`.
 */
export function changeBatches(ctx: { state: Partial<AdminState> }, status: number, details: Record<string, unknown> = {}): EventBatches | undefined {
  return ctx.state.audit?.batches?.(status, details);
}

export function auditAdminActions(audit: AuditService, router: Router<AdminState>) {
  return async function recordAdminAction(ctx: AuditedContext, next: Next): Promise<void> {
    if (!ctx.path.startsWith('/admin/pools')) return next();
    const match = matchAdminRoute(router, ctx.path, ctx.method);
    const isWrite = WRITES.has(ctx.method) && match !== undefined;
    const requestScope: AuditRequestScope = {
      get actor() {
        return actorOf(ctx.state.principal);
      },
      requestId: ctx.state.requestId,
      ip: ctx.ip,
      details: {},
    };
    if (isWrite) {
      const poolId = match.params.pool;
      requestScope.writeWithin = async (executor, status, events) => {
        const principal = ctx.state.principal;
        // POST /admin/pools: the pool is the one the change creates, named by its event.
        const eventPool = poolId ?? (match.template === '/admin/pools' && events?.[0]?.target?.type === 'pool' ? events[0].target.id : undefined);
        if (!eventPool || (principal?.kind === 'pool' && principal.poolId !== eventPool)) return;
        const described = describeAdminWrite(ctx.method, match);
        const common = {
          method: ctx.method,
          route: match.template,
          ...(principal?.kind === 'administrator' ? { administrator: principal.email } : {}),
          ...requestScope.details,
        };
        const written = events?.length ? events : [{ action: described.action, target: undefined, details: undefined }];
        for (const event of written) {
          await audit.record(
            {
              poolId: eventPool,
              action: event.action ?? described.action,
              outcome: 'success',
              target: event.target ?? requestScope.target ?? described.target,
              status,
              details: { ...common, ...event.details },
            },
            requestScope,
            { executor },
          );
        }
        requestScope.written = true;
      };
      requestScope.batches = (status, details) => {
        const principal = ctx.state.principal;
        if (!poolId || (principal?.kind === 'pool' && principal.poolId !== poolId)) return undefined;
        return audit.batches(poolId, requestScope.actor, requestScope, status, {
          method: ctx.method,
          route: match.template,
          ...(principal?.kind === 'administrator' ? { administrator: principal.email } : {}),
          ...details,
        });
      };
    }
    ctx.state.audit = requestScope;
    let failure: unknown;
    try {
      await next();
    } catch (error) {
      failure = error;
    }
    const status = failure === undefined ? ctx.status : toAppError(failure).status;
    if (requestScope.written && status < 400) audit.queuedCommitted();
    const refused = status === 401 && match !== undefined;
    // Written already, in the transaction of the change (a failure after it rolled the change and the event back).
    const writtenWithin = requestScope.written === true && status < 400;
    if ((isWrite || refused) && !writtenWithin) {
      const poolId = match.params.pool ?? (ctx.method === 'POST' && status < 300 ? (ctx.body as { id?: string } | undefined)?.id : undefined);
      const principal = ctx.state.principal;
      // Pool A's secret at pool B's path found nothing there; B's trail must not name A's secret.
      const foreign = principal?.kind === 'pool' && principal.poolId !== poolId;
      if (poolId && !foreign) {
        const described = refused && !isWrite ? { action: 'admin.unauthorized', target: undefined } : describeAdminWrite(ctx.method, match);
        const target =
          requestScope.target ??
          (ctx.method === 'POST' && status < 300 ? createdTarget(ctx, described.action.split('.')[0]!.replace(/s$/, '')) : undefined) ??
          described.target;
        await audit.record(
          {
            poolId,
            action: described.action,
            outcome: status < 400 ? 'success' : 'failure',
            target,
            status,
            details: {
              method: ctx.method,
              route: match.template,
              ...(principal?.kind === 'administrator' ? { administrator: principal.email } : {}),
              ...requestScope.details,
            },
          },
          requestScope,
        );
      }
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the next middleware threw, unchanged
    if (failure !== undefined) throw failure;
  };
}
