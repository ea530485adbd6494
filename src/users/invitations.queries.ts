/** Which users of one pool a bulk invitation reaches, and whether their invitation is live. */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { UserRow } from '../db/tables.js';
import { isUuid } from '../http/ids.js';

export function createInvitationQueries(db: Db, poolId: string) {
  const liveInvitation = (now: Date) =>
    sql<boolean>`EXISTS (SELECT 1 FROM one_time_codes c
                          WHERE c.pool_id = users.pool_id AND c.user_id = users.id AND c.purpose = 'invitation'
                            AND c.consumed_at IS NULL AND c.expires_at > ${now})`;
  return {
    /** Users of status "new" without a live invitation, oldest first. */
    uninvited(now: Date, limit: number): Promise<UserRow[]> {
      return db
        .selectFrom('users')
        .selectAll()
        .where('pool_id', '=', poolId)
        .where('status', '=', 'new')
        .where((eb) => eb.not(liveInvitation(now)))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    /** The users among `ids` (ids that are not UUIDs match nobody), each with whether an invitation of theirs is live. */
    async byIds(ids: string[], now: Date): Promise<(UserRow & { invited: boolean })[]> {
      const uuids = ids.filter(isUuid);
      if (uuids.length === 0) return [];
      return db
        .selectFrom('users')
        .selectAll()
        .select(liveInvitation(now).as('invited'))
        .where('pool_id', '=', poolId)
        .where(sql<boolean>`id = ANY(${uuids}::uuid[])`)
        .execute();
    },
  };
}
