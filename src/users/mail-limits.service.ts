/**
 * Limits on mail that an anonymous visitor can make Tarn send (registration codes, the
 * "you already have an account" notice, sign-in codes), so that the hosted pages cannot be
 * used to flood a mailbox or to send mail in bulk (ADR 0304):
 * - at most one request per address per RESEND_INTERVAL_MS;
 * - at most PER_ADDRESS requests per address per hour;
 * - at most PER_IP requests per client IP per hour.
 * Requests are counted per address whether or not the address has an account, and before
 * any account is looked up, so a limit tells nothing about accounts. The counts live in
 * PostgreSQL, so every instance sees the same. The price: someone who exhausts an address's
 * hourly budget delays its owner's registration or code sign-in for up to an hour (password
 * sign-in is unaffected).
 */
import type { Db } from '../db/database.js';
import { emailKey } from './email.js';
import { createMailRequestQueries } from './mail-requests.queries.js';

export const RESEND_INTERVAL_MS = 30 * 1000;
export const MAIL_LIMIT_WINDOW_MS = 60 * 60 * 1000;
export const PER_ADDRESS = 5;
export const PER_IP = 20;
/** What mail_requests.ip holds for mail the admin API sends (bulk invitations). */
const ADMIN_SENDER = 'admin-api';

/** `allowed`: go ahead; `address`: this address had enough (answer as usual, send nothing); `ip`: the network had enough (say so). */
export type MailAllowance = 'allowed' | 'address' | 'ip';

export interface MailLimitDeps {
  db: Db;
  clock: () => Date;
}

export function createMailLimits({ db, clock }: MailLimitDeps) {
  return {
    /** Counts one request for `email` from `ip` when the limits allow it, and says whether they did. */
    async take(poolId: string, email: string, ip: string): Promise<MailAllowance> {
      const queries = createMailRequestQueries(db, poolId);
      const address = emailKey(email);
      const now = clock();
      const counts = await queries.countMailRequests(address, ip, new Date(now.getTime() - MAIL_LIMIT_WINDOW_MS));
      if (counts.ip >= PER_IP) return 'ip';
      if (counts.address >= PER_ADDRESS) return 'address';
      if (counts.lastForAddress && now.getTime() - counts.lastForAddress.getTime() < RESEND_INTERVAL_MS) return 'address';
      await queries.insertMailRequest(address, ip, now);
      return 'allowed';
    },

    /**
     * The per-address limits only, for mail an admin sends in bulk (invitations): the admin's
     * network is not an anonymous visitor's, but an address still gets no more than its share.
     */
    async takeForAddress(poolId: string, email: string): Promise<boolean> {
      const queries = createMailRequestQueries(db, poolId);
      const address = emailKey(email);
      const now = clock();
      const counts = await queries.countMailRequests(address, ADMIN_SENDER, new Date(now.getTime() - MAIL_LIMIT_WINDOW_MS));
      if (counts.address >= PER_ADDRESS) return false;
      if (counts.lastForAddress && now.getTime() - counts.lastForAddress.getTime() < RESEND_INTERVAL_MS) return false;
      await queries.insertMailRequest(address, ADMIN_SENDER, now);
      return true;
    },
  };
}

export type MailLimits = ReturnType<typeof createMailLimits>;
