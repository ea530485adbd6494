/**
 * Invitations in bulk (imported users of status "new", docs/migrate.md): a list of users,
 * or every user of status "new" without a live invitation, at most MAX_BULK_INVITATIONS a
 * request. Mails go one at a time, each within the per-address mail limits
 * (mail-limits.service.ts); the answer is a report of what was sent and what was skipped, why.
 */
import type { RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import { AppError } from '../http/problem.js';
import { createInvitationQueries } from './invitations.queries.js';
import { MAX_BULK_INVITATIONS, type BulkInvitationInput, type SkipReason } from './invitations.schemas.js';
import type { MailLimits } from './mail-limits.service.js';
import type { UserService } from './users.service.js';

export interface InvitationServiceDeps {
  db: Db;
  users: Pick<UserService, 'sendInvitation'>;
  mailLimits: Pick<MailLimits, 'takeForAddress'>;
  clock: () => Date;
}

interface Skipped {
  userId: string;
  email: string | null;
  reason: SkipReason;
  detail: string;
}

export function createInvitationService({ db, users, mailLimits, clock }: InvitationServiceDeps) {
  return {
    /**
     * `record` writes each invitation's `user.invited` with its code, in one transaction (ADR
     * 0809; the mail follows the commit), and at the end the request's summary (`users.invitations`).
     */
    async inviteMany(pool: PoolRow, input: BulkInvitationInput, record?: RecordChange) {
      const queries = createInvitationQueries(db, pool.id);
      const now = clock();
      const sent: { userId: string; email: string; expiresAt: Date }[] = [];
      const skipped: Skipped[] = [];
      let candidates: (UserRow & { invited?: boolean })[];
      let more = false;
      if (input.userIds) {
        const ids = [...new Set(input.userIds)];
        const found = await queries.byIds(ids, now);
        const byId = new Map(found.map((user) => [user.id, user]));
        candidates = [];
        for (const id of ids) {
          const user = byId.get(id);
          if (user) candidates.push(user);
          else skipped.push({ userId: id, email: null, reason: 'not_found', detail: 'No user with this id in the pool.' });
        }
      } else {
        const limit = input.limit ?? MAX_BULK_INVITATIONS;
        candidates = await queries.uninvited(now, limit + 1);
        more = candidates.length > limit;
        candidates = candidates.slice(0, limit);
      }
      for (const user of candidates) {
        if (user.status !== 'new') {
          skipped.push({
            userId: user.id,
            email: user.email,
            reason: 'not_new',
            detail: `The user is ${user.status}; only users of status "new" are invited.`,
          });
          continue;
        }
        if (user.invited && !input.resend) {
          skipped.push({
            userId: user.id,
            email: user.email,
            reason: 'already_invited',
            detail: 'An invitation is still live; send with resend: true to replace it.',
          });
          continue;
        }
        if (!(await mailLimits.takeForAddress(pool.id, user.email))) {
          skipped.push({
            userId: user.id,
            email: user.email,
            reason: 'rate_limited',
            detail: 'This address was mailed too recently or too often; try again later.',
          });
          continue;
        }
        try {
          const invitation = await users.sendInvitation(pool, user, record, {
            action: 'user.invited',
            target: { type: 'user', id: user.id },
            details: { status: user.status, bulk: true },
          });
          sent.push({ userId: user.id, email: invitation.sentTo, expiresAt: invitation.expiresAt });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          skipped.push({ userId: user.id, email: user.email, reason: 'mail_failed', detail: 'The mail could not be sent; try again later.' });
        }
      }
      if (record) {
        const reasons: Record<string, number> = {};
        for (const item of skipped) reasons[item.reason] = (reasons[item.reason] ?? 0) + 1;
        // The report of the request, after its changes (each written with its own event above).
        await record(db, [
          {
            target: { type: 'pool', id: pool.id },
            details: { selection: input.userIds ? 'userIds' : 'status_new', sent: sent.length, skipped: skipped.length, skippedByReason: reasons },
          },
        ]);
      }
      return { sent, skipped, more };
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;
