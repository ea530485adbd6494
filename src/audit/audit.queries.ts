/**
 * The audit_events table of one pool. Every query filters by pool_id; ids sort by time,
 * so "newest first" and the page cursor are both the primary key.
 */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { AuditEventRow, AuditEventTable } from '../db/tables.js';
import { sql, type Insertable, type RawBuilder } from 'kysely';
import { isForeignKeyViolation } from '../db/errors.js';

export type NewAuditEvent = Omit<Insertable<AuditEventTable>, 'pool_id'>;

/**
 * Admin writes on users were once recorded under their route's name; they are now events of
 * the user's lifecycle (user.created, user.disabled, …; docs/events.md). Filtering by the old
 * name still finds them: every admin event keeps the method and route template it came from.
 */
const ROUTE_NAMES: Record<string, { method: string; route: string }> = {
  'users.create': { method: 'POST', route: '/admin/pools/:pool/users' },
  'users.update': { method: 'PATCH', route: '/admin/pools/:pool/users/:userId' },
  'users.delete': { method: 'DELETE', route: '/admin/pools/:pool/users/:userId' },
  'users.lockout.delete': { method: 'DELETE', route: '/admin/pools/:pool/users/:userId/lockout' },
  'users.invitation.create': { method: 'POST', route: '/admin/pools/:pool/users/:userId/invitation' },
};
/** Events renamed outright: the old name finds the new one. */
const RENAMED: Record<string, string> = { 'users.password_reset': 'user.password_reset' };

export interface AuditFilter {
  action?: string | undefined;
  actorKind?: string | undefined;
  actorId?: string | undefined;
  outcome?: 'success' | 'failure' | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

/** Whether the webhook `w` subscribed to an event of type `action`: `*`, its family (`user.*`) or the type itself. */
function wants(action: RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`(w.event_types ? '*' OR w.event_types ? ${action} OR w.event_types ? (split_part(${action}, '.', 1) || '.*'))`;
}

/**
 * What the events of a change of many subjects share (an import's batch of users): everything
 * but their ids, types, subjects and own details. `details` is JSON text.
 */
export interface SharedEventColumns {
  occurred_at: Date;
  actor_kind: AuditEventRow['actor_kind'];
  actor_id: string | null;
  status: number | null;
  request_id: string | null;
  ip: string | null;
  details: string;
}

/**
 * Two CTEs for the statement of a change of many subjects (ADR 0809), set-based: `events`
 * writes one event per row of the CTE named `source` (columns `event_id`, `action`,
 * `target_type`, `target_id`, `details` jsonb: whole, made with `detailsWith`, so that rows
 * can take constants rather than build jsonb one by one), and
 * `queued` one delivery per event and enabled webhook of the pool that wants its type, as
 * insertAuditEvent does for one. The statement ends with `SELECT … FROM queued` to count them.
 */
/** The shared details with what some of the events add (JSON text, for a `::jsonb` constant). */
export function detailsWith(shared: SharedEventColumns, added: Record<string, unknown>): string {
  return JSON.stringify({ ...(JSON.parse(shared.details) as Record<string, unknown>), ...added });
}

export function eventsFromRows(poolId: string, source: string, shared: SharedEventColumns): RawBuilder<unknown> {
  return sql`events AS (
      INSERT INTO audit_events (pool_id, id, occurred_at, actor_kind, actor_id, action, target_type, target_id, outcome, status, request_id, ip, details)
      SELECT ${poolId}, s.event_id, ${shared.occurred_at}::timestamptz, ${shared.actor_kind}, ${shared.actor_id}, s.action, s.target_type, s.target_id,
             'success', ${shared.status}::int, ${shared.request_id}, ${shared.ip}, s.details
        FROM ${sql.table(source)} s
      RETURNING pool_id, id, action, occurred_at
    ), queued AS (
      INSERT INTO webhook_deliveries (pool_id, id, webhook_id, event_id, next_attempt_at, created_at)
      SELECT event.pool_id, event.id || '.' || w.id, w.id, event.id, event.occurred_at, event.occurred_at
        FROM events event JOIN webhooks w ON w.pool_id = event.pool_id
       WHERE w.pool_id = ${poolId} AND w.enabled AND ${wants(sql`event.action`)}
      RETURNING 1
    )`;
}

export function createAuditQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    /**
     * Inserts the event and, in the same statement, one pending delivery for every enabled
     * webhook of the pool that wants its type (the outbox, ADR 0809): an event is never
     * without its deliveries. `onlyWebhook` limits the deliveries to one webhook (a test event).
     * Answers the number of deliveries queued, or undefined when the pool does not exist
     * (an action on a missing or just-deleted pool has no trail to join, and must not fail the request).
     */
    async insertAuditEvent(event: NewAuditEvent, onlyWebhook?: string): Promise<number | undefined> {
      const row = { ...event, pool_id: poolId };
      try {
        const result = await sql<{ queued: number }>`
          WITH event AS (
            INSERT INTO audit_events (pool_id, id, occurred_at, actor_kind, actor_id, action, target_type, target_id, outcome, status, request_id, ip, details)
            VALUES (${row.pool_id}, ${row.id}, ${row.occurred_at ?? new Date()}, ${row.actor_kind}, ${row.actor_id ?? null}, ${row.action},
                    ${row.target_type ?? null}, ${row.target_id ?? null}, ${row.outcome}, ${row.status ?? null}, ${row.request_id ?? null},
                    ${row.ip ?? null}, ${row.details ?? '{}'}::jsonb)
            RETURNING pool_id, id, action, occurred_at
          ), queued AS (
            INSERT INTO webhook_deliveries (pool_id, id, webhook_id, event_id, next_attempt_at, created_at)
            SELECT event.pool_id, event.id || '.' || w.id, w.id, event.id, event.occurred_at, event.occurred_at
            FROM event JOIN webhooks w ON w.pool_id = event.pool_id
            WHERE w.pool_id = ${poolId} AND w.enabled
              AND (${onlyWebhook ?? null}::text IS NULL OR w.id = ${onlyWebhook ?? null})
              AND (${onlyWebhook ?? null}::text IS NOT NULL OR ${wants(sql`event.action`)})
            RETURNING 1
          )
          SELECT count(*)::int AS queued FROM queued`.execute(pool.db);
        return result.rows[0]?.queued ?? 0;
      } catch (error) {
        if (isForeignKeyViolation(error)) return undefined;
        throw error;
      }
    },

    /** Newest first; `before` is the id of the last event of the previous page. */
    listAuditEvents(filter: AuditFilter, limit: number, before: string | undefined): Promise<AuditEventRow[]> {
      let query = pool.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit);
      if (before !== undefined) query = query.where('id', '<', before);
      const action = filter.action !== undefined ? (RENAMED[filter.action] ?? filter.action) : undefined;
      const renamed = action !== undefined ? ROUTE_NAMES[action] : undefined;
      if (action?.endsWith('.*')) query = query.where('action', 'like', `${action.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
      else if (action !== undefined && renamed) {
        query = query.where((eb) => eb.or([eb('action', '=', action), eb(sql`details`, '@>', sql`${JSON.stringify(renamed)}::jsonb`)]));
      } else if (action !== undefined) query = query.where('action', '=', action);
      if (filter.actorKind !== undefined) query = query.where('actor_kind', '=', filter.actorKind as AuditEventRow['actor_kind']);
      if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
      if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
      if (filter.since !== undefined) query = query.where('occurred_at', '>=', filter.since);
      if (filter.until !== undefined) query = query.where('occurred_at', '<', filter.until);
      return query.execute();
    },
  };
}
