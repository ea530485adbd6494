/**
 * Requests by anonymous visitors that may mail an address, of one pool: what the mail
 * limits count. "Now" comes from the caller's clock.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

export interface MailRequestCounts {
  /** Requests for the address since `since`, and the newest of them. */
  address: number;
  lastForAddress: Date | undefined;
  /** Requests from the IP since `since`. */
  ip: number;
}

export function createMailRequestQueries(db: Db, poolId: string) {
  return {
    async countMailRequests(address: string, ip: string, since: Date): Promise<MailRequestCounts> {
      const row = await db
        .selectFrom('mail_requests')
        .select([
          sql<number>`count(*) filter (where address = ${address})::int`.as('address'),
          sql<Date | null>`max(requested_at) filter (where address = ${address})`.as('last_for_address'),
          sql<number>`count(*) filter (where ip = ${ip})::int`.as('ip'),
        ])
        .where('pool_id', '=', poolId)
        .where((eb) => eb.or([eb('address', '=', address), eb('ip', '=', ip)]))
        .where('requested_at', '>', since)
        .executeTakeFirstOrThrow();
      return { address: row.address, lastForAddress: row.last_for_address ? new Date(row.last_for_address) : undefined, ip: row.ip };
    },

    async insertMailRequest(address: string, ip: string, at: Date): Promise<void> {
      await db.insertInto('mail_requests').values({ pool_id: poolId, address, ip, requested_at: at }).execute();
    },
  };
}
