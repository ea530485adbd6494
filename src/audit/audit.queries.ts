/**
 * The audit_events table of one pool. Every query filters by pool_id; ids sort by time,
 * so "newest first" and the page cursor are both the primary key.
 */
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import type { AuditEventRow, AuditEventTable } from '../db/tables.js';
import type { Insertable } from 'kysely';
import { isForeignKeyViolation } from '../db/errors.js';

export type NewAuditEvent = Omit<Insertable<AuditEventTable>, 'pool_id'>;

export interface AuditFilter {
  action?: string | undefined;
  actorKind?: string | undefined;
  actorId?: string | undefined;
  outcome?: 'success' | 'failure' | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

export function createAuditQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    /**
     * Inserts the event when the pool exists; false when it does not (an action on a
     * missing or just-deleted pool has no trail to join, and must not fail the request).
     */
    async insertAuditEvent(event: NewAuditEvent): Promise<boolean> {
      try {
        await pool.insertInto('audit_events', event).execute();
        return true;
      } catch (error) {
        if (isForeignKeyViolation(error)) return false;
        throw error;
      }
    },

    /** Newest first; `before` is the id of the last event of the previous page. */
    listAuditEvents(filter: AuditFilter, limit: number, before: string | undefined): Promise<AuditEventRow[]> {
      let query = pool.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit);
      if (before !== undefined) query = query.where('id', '<', before);
      if (filter.action !== undefined) query = query.where('action', '=', filter.action);
      if (filter.actorKind !== undefined) query = query.where('actor_kind', '=', filter.actorKind as AuditEventRow['actor_kind']);
      if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
      if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
      if (filter.since !== undefined) query = query.where('occurred_at', '>=', filter.since);
      if (filter.until !== undefined) query = query.where('occurred_at', '<', filter.until);
      return query.execute();
    },
  };
}
