/**
 * Statements of bulk import and export, for one pool. A batch of users is one INSERT
 * (unnest of column arrays: one round trip and one plan for up to a batch's rows);
 * export walks users by primary key (keyset), a page at a time.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { PasswordChange, UserStatus } from '../../db/tables.js';
import { detailsWith, eventsFromRows, type SharedEventColumns } from '../../audit/audit.queries.js';

export interface ImportRow {
  id: string;
  email: string;
  email_verified: boolean;
  phone: string | null;
  status: UserStatus;
  profile: Record<string, unknown>;
  metadata: Record<string, unknown>;
  password_hash: string | null;
  password_change: PasswordChange | null;
  created_at: string | null;
}

export type ConflictMode = 'skip' | 'update' | 'fail';

export interface StoredRow {
  id: string;
  email: string;
  inserted: boolean;
}

export interface ExportRow {
  id: string;
  email: string;
  email_verified: boolean;
  phone: string | null;
  status: UserStatus;
  profile: Record<string, unknown>;
  metadata: Record<string, unknown>;
  password_hash: string | null;
  created_at: Date;
  group_ids: string[] | null;
}

/**
 * The events of a batch (ADR 0809): written by the batch's own statement, one a user, with
 * what they share (audit.queries.ts eventsFromRows). `ids` holds one event id per row given.
 */
export interface BatchEvents {
  ids: string[];
  shared: SharedEventColumns;
}

/** An event's details by the user's status: one constant each, not a jsonb built per row. */
function detailsByStatus(status: RawBuilder<unknown>, shared: SharedEventColumns) {
  const of = (value: UserStatus) => sql`${detailsWith(shared, { status: value })}::jsonb`;
  return sql`CASE ${status} WHEN 'active' THEN ${of('active')} WHEN 'new' THEN ${of('new')} ELSE ${of('disabled')} END`;
}

export function createImportQueries(db: Db, poolId: string) {
  /** INSERT … SELECT from unnest of column arrays: one round trip and one plan for a whole batch. */
  function insertFrom(rows: ImportRow[]) {
    const column = <K extends keyof ImportRow>(key: K) => rows.map((row) => row[key]);
    const json = (key: 'profile' | 'metadata') => rows.map((row) => JSON.stringify(row[key]));
    return sql`
      INSERT INTO users (pool_id, id, email, email_verified, phone, status, profile, metadata, password_hash, password_change, created_at)
      SELECT ${poolId}, t.id, t.email, t.email_verified, t.phone, t.status, t.profile, t.metadata, t.password_hash, t.password_change,
             coalesce(t.created_at, now())
        FROM unnest(
        ${column('id')}::uuid[], ${column('email')}::text[], ${column('email_verified')}::boolean[], ${column('phone')}::text[],
        ${column('status')}::text[], ${json('profile')}::jsonb[], ${json('metadata')}::jsonb[], ${column('password_hash')}::text[],
        ${column('password_change')}::text[], ${column('created_at')}::timestamptz[]
      ) AS t (id, email, email_verified, phone, status, profile, metadata, password_hash, password_change, created_at)`;
  }

  return {
    /**
     * Inserts a batch; rows whose email (or id) exists are left out of the answer (skip,
     * fail) or update the existing user (update: everything but the id and, when the line
     * has none, the password). `inserted` is false for an updated row (xmax is set then).
     */
    async insertUsers(rows: ImportRow[], mode: ConflictMode, events?: BatchEvents): Promise<{ stored: StoredRow[]; queued: number }> {
      const onConflict =
        mode === 'update'
          ? sql`ON CONFLICT (pool_id, lower(email)) DO UPDATE SET
                  email = excluded.email, email_verified = excluded.email_verified, phone = excluded.phone,
                  status = excluded.status, profile = excluded.profile, metadata = excluded.metadata,
                  password_hash = coalesce(excluded.password_hash, users.password_hash),
                  password_change = CASE WHEN excluded.password_hash IS NULL THEN users.password_change ELSE excluded.password_change END,
                  updated_at = now()`
          : sql`ON CONFLICT DO NOTHING`;
      if (!events) {
        const result = await sql<StoredRow>`${insertFrom(rows)} ${onConflict} RETURNING id, lower(email) AS email, (xmax = 0) AS inserted`.execute(db);
        return { stored: result.rows, queued: 0 };
      }
      // A user.created for each inserted row, a user.updated for each updated one; a skipped row returns nothing, and has none.
      const result = await sql<StoredRow & { queued: number }>`
        WITH stored AS (${insertFrom(rows)} ${onConflict} RETURNING id, lower(email) AS email, (xmax = 0) AS inserted, status),
        source AS (
          SELECT e.event_id, CASE WHEN i.inserted THEN 'user.created' ELSE 'user.updated' END AS action, 'user' AS target_type,
                 i.id::text AS target_id, ${detailsByStatus(sql`i.status`, events.shared)} AS details
            FROM stored i JOIN unnest(${events.ids}::text[], ${rows.map((row) => row.email.toLowerCase())}::text[]) AS e (event_id, email) ON e.email = i.email
        ), ${eventsFromRows(poolId, 'source', events.shared)}
        SELECT i.id, i.email, i.inserted, (SELECT count(*) FROM queued)::int AS queued FROM stored i`.execute(db);
      return { stored: result.rows, queued: result.rows[0]?.queued ?? 0 };
    },

    /**
     * Inserts a batch in which no row is expected to exist (a new pool, new users): a plain
     * INSERT, without ON CONFLICT's per-row arbitration or RETURNING, about 40% less work for
     * PostgreSQL. False (and nothing stored) when a row's email or id exists: the caller then
     * stores the batch with insertUsers. Inside a transaction the attempt runs under a
     * savepoint, so its failure does not end the transaction. Answers the deliveries queued
     * with `events`.
     */
    async insertNewUsers(rows: ImportRow[], events?: BatchEvents): Promise<number | false> {
      const guarded = db.isTransaction;
      if (guarded) await sql`SAVEPOINT import_batch`.execute(db);
      try {
        let queued = 0;
        if (!events) await insertFrom(rows).execute(db);
        else {
          // One statement: the users, a user.created for each, and their deliveries (all stored, or none).
          const result = await sql<{ queued: number }>`
            WITH inserted AS (${insertFrom(rows)}),
            source AS (
              SELECT e.event_id, 'user.created' AS action, 'user' AS target_type, e.target_id, ${detailsByStatus(sql`e.status`, events.shared)} AS details
                FROM unnest(${events.ids}::text[], ${rows.map((row) => row.id)}::text[], ${rows.map((row) => row.status)}::text[]) AS e (event_id, target_id, status)
            ), ${eventsFromRows(poolId, 'source', events.shared)}
            SELECT count(*)::int AS queued FROM queued`.execute(db);
          queued = result.rows[0]?.queued ?? 0;
        }
        if (guarded) await sql`RELEASE SAVEPOINT import_batch`.execute(db);
        return queued;
      } catch (error) {
        if (guarded) await sql`ROLLBACK TO SAVEPOINT import_batch`.execute(db);
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    /** Ids among `ids` that belong to a user with another email (an update would collide on the key). */
    async idsTakenByOthers(pairs: { id: string; email: string }[]): Promise<Set<string>> {
      if (pairs.length === 0) return new Set();
      const result = await sql<{ id: string }>`
        SELECT u.id FROM unnest(${pairs.map((p) => p.id)}::uuid[], ${pairs.map((p) => p.email.toLowerCase())}::text[]) AS k(id, email)
          JOIN users u ON u.pool_id = ${poolId} AND u.id = k.id AND lower(u.email) <> k.email`.execute(db);
      return new Set(result.rows.map((row) => row.id));
    },

    async insertMemberships(pairs: { userId: string; groupId: string }[]): Promise<void> {
      if (pairs.length === 0) return;
      await sql`
        INSERT INTO group_members (pool_id, group_id, user_id)
        SELECT ${poolId}, g, u FROM unnest(${pairs.map((p) => p.groupId)}::uuid[], ${pairs.map((p) => p.userId)}::uuid[]) AS t(g, u)
        ON CONFLICT DO NOTHING`.execute(db);
    },

    async listGroups(): Promise<{ id: string; name: string; parent_id: string | null }[]> {
      return db.selectFrom('groups').select(['id', 'name', 'parent_id']).where('pool_id', '=', poolId).execute();
    },

    /** A page of users after `after` (by id), each with the ids of the groups they are directly in. */
    async exportPage(limit: number, after: string | undefined): Promise<ExportRow[]> {
      const result = await sql<ExportRow>`
        SELECT u.id, u.email, u.email_verified, u.phone, u.status, u.profile, u.metadata, u.password_hash, u.created_at,
               (SELECT array_agg(m.group_id::text) FROM group_members m WHERE m.pool_id = u.pool_id AND m.user_id = u.id) AS group_ids
          FROM users u
         WHERE u.pool_id = ${poolId} ${after === undefined ? sql`` : sql`AND u.id > ${after}::uuid`}
         ORDER BY u.id
         LIMIT ${limit}`.execute(db);
      return result.rows;
    },
  };
}
