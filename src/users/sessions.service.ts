/**
 * A user's sign-in sessions, as the provider keeps them: when each began, until when it
 * lasts, and the applications signed in through it. A session is named by its stored key
 * (the keyed hash of its id, ADR 0709), never by the cookie value. The provider does not
 * record a session's last use, so none is shown.
 * Ending every session also revokes the user's grants and tokens ("sign out everywhere").
 * `record` writes the admin's event in the transaction of the change (ADR 0809).
 */
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { problems } from '../http/problem.js';
import { createAccountArtifactQueries } from './account-artifacts.queries.js';
import type { UserService } from './users.service.js';

export interface UserSession {
  id: string;
  createdAt: Date | null;
  expiresAt: Date | null;
  clients: string[];
}

export function createSessionService({ db, users }: { db: Db; users: UserService }) {
  return {
    async listSessions(poolId: string, userId: string): Promise<{ items: UserSession[] }> {
      await users.getUserRow(poolId, userId);
      const rows = await createAccountArtifactQueries(db, poolId).listSessionsOfAccount(userId);
      return {
        items: rows.map((row) => {
          const payload = row.payload as { loginTs?: unknown; authorizations?: unknown };
          const authorizations = payload.authorizations && typeof payload.authorizations === 'object' ? Object.keys(payload.authorizations) : [];
          return {
            id: row.id,
            createdAt: typeof payload.loginTs === 'number' ? new Date(payload.loginTs * 1000) : null,
            expiresAt: row.expires_at ? new Date(row.expires_at) : null,
            clients: authorizations,
          };
        }),
      };
    },

    async deleteSession(poolId: string, userId: string, sessionId: string, record?: RecordChange): Promise<void> {
      await users.getUserRow(poolId, userId);
      await changeWithEvents(db, record, async (executor) => {
        if (!(await createAccountArtifactQueries(executor, poolId).deleteSessionOfAccount(userId, sessionId))) throw problems.notFound('Session');
      });
    },

    async deleteAllSessions(poolId: string, userId: string, record?: RecordChange): Promise<void> {
      await users.getUserRow(poolId, userId);
      await changeWithEvents(db, record, (executor) => users.revokeAccess(poolId, userId, executor));
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
