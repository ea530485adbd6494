/**
 * The audit log: who did what to which target of a pool, when, and how it ended.
 * - Admin actions are recorded generically by the admin middleware (audit.middleware.ts),
 *   once per write request, after the route ran; a route adds what only it knows (rotated
 *   ids) to the pending event with `annotateAudit` (audit.middleware.ts).
 * - Security events (sign-in success and failure, lockout, …) are recorded explicitly.
 * - Recording never fails the request it describes: a failed insert is logged loudly.
 * - Event ids sort by time (hex milliseconds, a per-instance sequence, randomness), so
 *   pages are "newest first" by primary key.
 * - Nothing secret goes in: no request bodies, no passwords, codes, secrets or tokens.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { AuditActorKind, AuditEventRow } from '../db/tables.js';
import { toPage, type Page } from '../http/pagination.js';
import type { Logger } from '../log.js';
import { POOL_ID } from '../pools/pools.schemas.js';
import { createAuditQueries, type SharedEventColumns } from './audit.queries.js';
import type { AuditQuery } from './audit.schemas.js';

export interface AuditActor {
  kind: AuditActorKind;
  id?: string | null | undefined;
}

export interface AuditTarget {
  type: string;
  id: string;
}

export interface AuditEventInput {
  poolId: string;
  action: string;
  outcome: 'success' | 'failure';
  actor?: AuditActor | undefined;
  target?: AuditTarget | undefined;
  status?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

/**
 * An event a change causes: its type (absent: the admin write's, named after its route) and what
 * it adds; the request gives the actor, its ids and IP.
 */
export interface ChangeEvent {
  action?: string | undefined;
  target?: AuditTarget | undefined;
  details?: Record<string, unknown> | undefined;
}

/**
 * Writes a change's events in the change's transaction (ADR 0809). Without `events` the
 * request's own event (an admin write named after its route) is written.
 */
export type RecordChange = (executor: Db, events?: readonly ChangeEvent[]) => Promise<void>;

/**
 * Runs a change and writes its events in one transaction: both commit or neither does (the
 * outbox guarantee, ADR 0809). `describe` names the events from the change's result (an empty
 * list: the request's own event). Without a recorder (no request to record) the change still runs
 * in a transaction, alone.
 * Everything `work` does must go through the executor it is given: on PGlite's one connection
 * a statement on another would wait for the transaction forever.
 */
export async function changeWithEvents<T>(
  db: Db,
  record: RecordChange | undefined,
  work: (executor: Db) => Promise<T>,
  describe?: (result: T) => readonly ChangeEvent[] | undefined,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const result = await work(trx);
    await record?.(trx, describe?.(result));
    return result;
  });
}

/**
 * The events of a change of many subjects (an import's batches of users), written set-based by
 * the change's own statement (audit.queries.ts eventsFromRows) rather than one by one: each
 * batch takes what its events share, with an id for each; whoever committed them says so.
 */
export interface EventBatches {
  poolId: string;
  /** What `count` events written now share, and their ids (time-sorted, from this instance's sequence). */
  next(count: number): { ids: string[]; shared: SharedEventColumns };
  /** Events of these types were committed (counted in the metrics), and `queued` deliveries with them. */
  committed(types: ReadonlyMap<string, number>, queued: number): void;
}

/** What the request being served knows about itself (made by the middleware, passed to record). */
export interface AuditRequestScope {
  actor: AuditActor;
  requestId: string | undefined;
  ip: string | undefined;
  /** Filled by the route during the request, merged into the admin event afterwards. */
  target?: AuditTarget | undefined;
  details: Record<string, unknown>;
  /**
   * Writes the request's admin event in the transaction of its change (ADR 0809): a service
   * calls it inside its transaction with the answer's status; the middleware then writes nothing more.
   * `events`, when there are any, are written instead of the one named after the route (a
   * user's lifecycle: `user.disabled`, `user.deleted`, …); none leaves the route's name to the middleware.
   */
  writeWithin?: ((executor: Db, status: number, events?: readonly ChangeEvent[]) => Promise<void>) | undefined;
  /** The request's EventBatches for a change of many subjects (`details` added to every event's). */
  batches?: ((status: number, details: Record<string, unknown>) => EventBatches | undefined) | undefined;
  /** Set once writeWithin wrote the event (it counts only if the request then succeeded). */
  written?: boolean | undefined;
}

export type SignInMethod = 'password' | 'email_code' | 'passkey' | (string & {});

export interface SignInEvent {
  poolId: string;
  method: SignInMethod;
  outcome: 'success' | 'failure';
  userId?: string | undefined;
  /** The identifier that was typed (not a secret; kept so failed attempts can be traced). */
  email?: string | undefined;
  /** Why a failure failed, in a word: "invalid_credentials", "locked", … */
  reason?: string | undefined;
  ip?: string | undefined;
  requestId?: string | undefined;
}

export interface UserEvent {
  poolId: string;
  /** e.g. "user.registered", "user.activated" (docs/events.md). */
  action: string;
  userId: string;
  details?: Record<string, unknown> | undefined;
  ip?: string | undefined;
  requestId?: string | undefined;
}

export interface AuditServiceDeps {
  db: Db;
  log: Logger;
  clock?: () => Date;
  /** Told about every sign-in, for the metrics. */
  onSignIn?: (method: string, outcome: 'success' | 'failure') => void;
  /** Told about every event, written or not (the metrics count them by type and outcome); `count` of them at once. */
  onEvent?: (type: string, outcome: 'success' | 'failure', count?: number) => void;
  /** Told when an event could not be written (a metric operators alert on). */
  onWriteFailure?: () => void;
  /** Told when an event queued webhook deliveries (the delivery worker of this instance wakes up). */
  onQueued?: () => void;
}

/** How an event is written besides its content. */
export interface RecordOptions {
  /**
   * The transaction of the change the event describes: the event (and its deliveries) commit
   * or roll back with it. Without one the event is written on its own, after the change.
   */
  executor?: Db | undefined;
  /** Deliver to this webhook only, whatever it subscribed to (a test event). */
  onlyWebhook?: string | undefined;
  /** The event is what was asked for (a test event): a failed write fails the caller. */
  required?: boolean | undefined;
}

/**
 * PostgreSQL text and jsonb hold neither NUL nor lone surrogates: what an attacker typed
 * must still be recorded, so those become U+FFFD (the UTF-8 round trip replaces surrogates).
 */
function storable(text: string, max: number): string {
  return Buffer.from(text.slice(0, max), 'utf8').toString('utf8').replaceAll('\u0000', '\ufffd');
}

export function toAuditResponse(row: AuditEventRow) {
  return {
    id: row.id,
    occurredAt: row.occurred_at,
    actor: { kind: row.actor_kind, id: row.actor_id },
    action: row.action,
    target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
    outcome: row.outcome,
    status: row.status,
    requestId: row.request_id,
    ip: row.ip,
    details: row.details,
  };
}

export type AuditEventResponse = ReturnType<typeof toAuditResponse>;

export function createAuditService({ db, log, clock = () => new Date(), onSignIn, onEvent, onWriteFailure, onQueued }: AuditServiceDeps) {
  let sequence = 0;

  function nextId(now: Date): string {
    sequence = (sequence + 1) % 0x10000;
    return `${now.getTime().toString(16).padStart(12, '0')}${sequence.toString(16).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
  }

  /** `count` ids as nextId makes them, with one draw of randomness for all (a batch's events). */
  function nextIds(now: Date, count: number): string[] {
    const time = now.getTime().toString(16).padStart(12, '0');
    const random = randomBytes(6 * count).toString('hex');
    const ids = new Array<string>(count);
    for (let i = 0; i < count; i += 1) {
      sequence = (sequence + 1) % 0x10000;
      ids[i] = `${time}${sequence.toString(16).padStart(4, '0')}${random.slice(i * 12, i * 12 + 12)}`;
    }
    return ids;
  }

  /**
   * Records one event; `current` is the request it happened in, if any (its actor, ids and IP).
   * (Passed by hand rather than through an AsyncLocalStorage: one of those, switched on for
   * admin requests and off again, made the promise hooks of every later request slower; ADR 0708.)
   */
  async function record(input: AuditEventInput, current?: AuditRequestScope, options: RecordOptions = {}): Promise<string | undefined> {
    // Not a pool id at all (a fuzzed path): there is no pool whose trail it could join.
    if (!POOL_ID.test(input.poolId)) return undefined;
    onEvent?.(input.action, input.outcome);
    const actor = input.actor ?? current?.actor ?? { kind: 'system' };
    const now = clock();
    const id = nextId(now);
    const write = () =>
      createAuditQueries(options.executor ?? db, input.poolId).insertAuditEvent(
        {
          id,
          occurred_at: now,
          actor_kind: actor.kind,
          actor_id: actor.id ?? null,
          action: storable(input.action, 100),
          target_type: input.target ? storable(input.target.type, 50) : null,
          target_id: input.target ? storable(input.target.id, 200) : null,
          outcome: input.outcome,
          status: input.status ?? null,
          request_id: current?.requestId ?? null,
          ip: current?.ip ?? null,
          details: JSON.stringify(input.details ?? {}, (_key, value: unknown) => (typeof value === 'string' ? storable(value, 2000) : value)),
        },
        options.onlyWebhook,
      );
    // In the change's transaction, a failure is the change's failure: it rolls back with it.
    if (options.executor || options.required) {
      const queued = await write();
      // Inside a transaction the deliveries are not visible before the commit: whoever commits wakes the worker (queuedCommitted).
      if (queued && !options.executor) onQueued?.();
      return id;
    }
    try {
      const queued = await write();
      const stored = queued !== undefined;
      if (queued) onQueued?.();
      // The pool is gone (pool.delete, or an action racing it): its trail went with it; the log keeps this one.
      if (!stored && input.outcome === 'success') {
        log.info({ poolId: input.poolId, action: input.action, actor, target: input.target, reqId: current?.requestId }, 'audit event of a deleted pool');
      }
    } catch (error) {
      // The action itself happened; losing its trail is an operator's problem to see at once.
      onWriteFailure?.();
      log.error({ err: error, poolId: input.poolId, action: input.action }, 'audit event not recorded');
      return undefined;
    }
    return id;
  }

  /** Events written set-based by a change's statement, as record writes one (EventBatches). */
  function batches(
    poolId: string,
    actor: AuditActor,
    current: Pick<AuditRequestScope, 'requestId' | 'ip'>,
    status: number | null,
    details: Record<string, unknown>,
  ): EventBatches {
    const detailsJson = JSON.stringify(details, (_key, value: unknown) => (typeof value === 'string' ? storable(value, 2000) : value));
    return {
      poolId,
      next(count) {
        const now = clock();
        const ids = nextIds(now, count);
        return {
          ids,
          shared: {
            occurred_at: now,
            actor_kind: actor.kind,
            actor_id: actor.id ?? null,
            status,
            request_id: current.requestId ?? null,
            ip: current.ip ?? null,
            details: detailsJson,
          },
        };
      },
      committed(types, queued) {
        for (const [type, count] of types) if (count > 0) onEvent?.(type, 'success', count);
        if (queued > 0) onQueued?.();
      },
    };
  }

  return {
    record,
    batches,

    /** Deliveries were committed by a transaction that wrote events with `executor`: the worker may look now. */
    queuedCommitted(): void {
      onQueued?.();
    },

    /** A sign-in attempt by any method: an audit event and a metric. */
    async signIn(event: SignInEvent): Promise<void> {
      onSignIn?.(event.method, event.outcome);
      const action = event.outcome === 'success' ? 'sign_in.success' : 'sign_in.failure';
      await record(
        {
          poolId: event.poolId,
          action,
          outcome: event.outcome,
          target: event.userId ? { type: 'user', id: event.userId } : undefined,
          details: {
            method: event.method,
            ...(event.email ? { email: storable(event.email, 320) } : {}),
            ...(event.reason ? { reason: event.reason } : {}),
          },
        },
        { actor: event.userId ? { kind: 'user', id: event.userId } : { kind: 'anonymous' }, requestId: event.requestId, ip: event.ip, details: {} },
      );
    },

    /**
     * A change a user made to their own account on the hosted pages (`user.registered`,
     * `user.activated`, …; docs/events.md): the user is the actor and the subject.
     */
    async userEvent(event: UserEvent): Promise<void> {
      await record(
        { poolId: event.poolId, action: event.action, outcome: 'success', target: { type: 'user', id: event.userId }, details: event.details },
        { actor: { kind: 'user', id: event.userId }, requestId: event.requestId, ip: event.ip, details: {} },
      );
    },

    /**
     * Writes the events of a change users make to their own accounts on the hosted pages in
     * the change's transaction (changeWithEvents): each event's subject is its actor. Whoever
     * commits calls queuedCommitted afterwards.
     */
    userChanges(request: { poolId: string; ip?: string | undefined; requestId?: string | undefined }): RecordChange {
      return async (executor, events = []) => {
        for (const event of events) {
          if (!event.action || !event.target) continue;
          await record(
            { poolId: request.poolId, action: event.action, outcome: 'success', target: event.target, details: event.details },
            { actor: { kind: 'user', id: event.target.id }, requestId: request.requestId, ip: request.ip, details: {} },
            { executor },
          );
        }
      };
    },

    /**
     * Writes the events of a change the system made on its own (a user locked by repeated
     * sign-in failures, lockout.service.ts) in the change's transaction (changeWithEvents): no
     * one asked for it. Whoever commits calls queuedCommitted afterwards.
     */
    systemChanges(poolId: string): RecordChange {
      return async (executor, events = []) => {
        for (const event of events) {
          if (!event.action) continue;
          await record(
            { poolId, action: event.action, outcome: 'success', actor: { kind: 'system' }, target: event.target, details: event.details },
            undefined,
            { executor },
          );
        }
      };
    },

    async listAuditEvents(poolId: string, query: AuditQuery): Promise<Page<AuditEventResponse>> {
      const [actorKind, ...rest] = query.actor?.split(':') ?? [];
      const rows = await createAuditQueries(db, poolId).listAuditEvents(
        {
          action: query.action,
          actorKind,
          actorId: rest.length ? rest.join(':') : undefined,
          outcome: query.outcome,
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
        },
        query.limit + 1,
        query.cursor,
      );
      return toPage(rows, query.limit, (row) => row.id, toAuditResponse);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
