/**
 * Users of one pool. Emails are stored normalised (email.ts) and compare case-insensitively
 * through the (pool_id, lower(email)) indexes.
 */
import { sql, type Insertable, type SelectQueryBuilder, type Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import { poolScoped } from '../db/pool-scoped.js';
import { ASYNC_COMMIT, fixedStatement } from '../db/prepared.js';
import { createBatchedLookup } from '../db/statement-batcher.js';
import type { Database, UserRow, UserStatus, UserTable } from '../db/tables.js';
import { emailKey, normalizeEmail } from './email.js';

export type NewUser = Omit<Insertable<UserTable>, 'pool_id'>;
export type UserChange = Omit<Updateable<UserTable>, 'pool_id' | 'id'>;

export interface UserFilter {
  email?: string | undefined;
  /** Case-insensitive prefix of the email (LIKE 'prefix%' through users_email_prefix). */
  emailPrefix?: string | undefined;
  status?: UserStatus | undefined;
  /** Words searched in the email and the profile's text and number fields, case-insensitively (all must match). */
  q?: string | undefined;
}

/** The orders a user list can take; the cursor is the sort key of the last row. */
export type UserSort = 'id' | 'email' | 'createdAt' | '-createdAt';

function likeContains(text: string): string {
  return `%${text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filtered<O>(query: SelectQueryBuilder<Database, 'users', O>, filter: UserFilter): SelectQueryBuilder<Database, 'users', O> {
  let result = query;
  if (filter.email !== undefined) result = result.where(sql`lower(email)`, '=', emailKey(filter.email));
  if (filter.emailPrefix !== undefined) {
    const pattern = `${filter.emailPrefix
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    result = result.where(sql`lower(email)`, 'like', pattern);
  }
  if (filter.status !== undefined) result = result.where('status', '=', filter.status);
  for (const word of (filter.q ?? '').split(/\s+/).filter(Boolean)) {
    const pattern = likeContains(word);
    result = result.where(
      // Any text or number the profile holds (what the pool's profile schema declares: names,
      // nickname, locale, a custom "department"…); nested objects such as address are not searched.
      sql<boolean>`(lower(email) like ${pattern} or exists (select 1 from jsonb_each(profile) as field(key, value) where jsonb_typeof(field.value) in ('string', 'number') and lower(field.value #>> '{}') like ${pattern}))`,
    );
  }
  return result;
}

const userById = fixedStatement<UserRow>('tarn_user_by_id', 'select * from users where pool_id = $1 and id = $2');
const userByEmail = fixedStatement<UserRow>('tarn_user_by_email', 'select * from users where pool_id = $1 and lower(email) = $2');
// Several users at once (ordinality counts from 1); ids must be UUIDs, as the column's type says.
const usersByIds = fixedStatement<UserRow & { n: number }>(
  'tarn_users_by_ids',
  'select k.n::int as n, u.* from unnest($2::uuid[]) with ordinality as k(id, n) join users u on u.pool_id = $1 and u.id = k.id',
);
// After every password sign-in. Asynchronous commit (as for artifacts, ADR 0700): the time of
// the last sign-in is information, and a PostgreSQL crash losing it costs nothing, while
// waiting for its WAL flush is a disk round trip on every sign-in.
const touchLastLogin = fixedStatement(
  'tarn_touch_last_login',
  `${ASYNC_COMMIT}
   update users set last_login_at = now() from async_commit where pool_id = $1 and id = $2`,
);

export function createUserQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    /** (every token, userinfo and sign-in request: a fixed statement, ADR 0703) */
    async findUser(id: string): Promise<UserRow | undefined> {
      return (await userById.run(db, [poolId, id])).rows[0];
    },

    async findUserByEmail(email: string): Promise<UserRow | undefined> {
      return (await userByEmail.run(db, [poolId, emailKey(email)])).rows[0];
    },

    /** `after`: the cursor key of the previous page's last row in `sort` order (cursorKey). */
    listUsers(filter: UserFilter, limit: number, after: string | undefined, sort: UserSort = 'id'): Promise<UserRow[]> {
      let query = filtered(pool.selectFrom('users').selectAll(), filter).limit(limit);
      if (sort === 'email') {
        query = query.orderBy(sql`lower(email)`);
        if (after !== undefined) query = query.where(sql`lower(email)`, '>', after);
      } else if (sort === 'createdAt' || sort === '-createdAt') {
        const direction = sort === 'createdAt' ? 'asc' : 'desc';
        // Milliseconds, as the cursor carries them (a JavaScript Date).
        query = query.orderBy(sql`date_trunc('milliseconds', created_at)`, direction).orderBy('id', direction);
        if (after !== undefined) {
          const [time = '', id = ''] = after.split('|');
          const at = new Date(time);
          if (Number.isNaN(at.getTime())) return Promise.resolve([]);
          query = query.where(sql<boolean>`(date_trunc('milliseconds', created_at), id) ${sql.raw(direction === 'asc' ? '>' : '<')} (${at}, ${id}::uuid)`);
        }
      } else {
        query = query.orderBy('id');
        if (after !== undefined) query = query.where('id', '>', after);
      }
      return query.execute();
    },

    async countUsers(filter: UserFilter): Promise<number> {
      const row = await filtered(pool.selectFrom('users').select(sql<string>`count(*)`.as('total')), filter).executeTakeFirst();
      return Number(row?.total ?? 0);
    },

    insertUser(row: NewUser): Promise<UserRow> {
      return pool
        .insertInto('users', { ...row, email: normalizeEmail(row.email) })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    updateUser(id: string, change: UserChange): Promise<UserRow | undefined> {
      return pool
        .updateTable('users')
        .set({ ...change, ...(change.email === undefined ? {} : { email: normalizeEmail(change.email) }), updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async touchLastLogin(id: string): Promise<void> {
      await touchLastLogin.run(db, [poolId, id]);
    },

    async deleteUser(id: string): Promise<boolean> {
      const result = await pool.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

/**
 * Finds users of one pool by id, the lookups of one event-loop turn in one query (ADR 0701,
 * as the provider's artifact finder does): every token, userinfo and code exchange request
 * looks its account up, and under load many arrive together.
 * Ids must be UUIDs (one that is not would fail the whole batch): callers check first.
 */
export function createUserFinder(db: Db, poolId: string): (id: string) => Promise<UserRow | undefined> {
  return createBatchedLookup<string, UserRow>(
    async (id) => (await userById.run(db, [poolId, id])).rows[0],
    async (ids) => (await usersByIds.run(db, [poolId, ids])).rows,
  );
}
