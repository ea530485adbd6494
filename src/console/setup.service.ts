/**
 * The admin pool and the first run (ADR 1000).
 * - ensureAdminPool: the pool of administrators exists from the first start (reserved id).
 * - prepareFirstRun: while nobody is owner, a one-time link (stored hashed, single use,
 *   expiring) lets the person who started Tarn become the first owner. Without the link
 *   nobody can; once an owner exists, no link works any more.
 */
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { Db } from '../db/database.js';
import { HostedPageError } from '../http/problem.js';
import type { Logger } from '../log.js';
import { ADMIN_POOL_ID } from '../oidc/built-in-clients.js';
import type { PoolService } from '../pools/pools.service.js';
import type { UserService } from '../users/users.service.js';
import { createRoleQueries } from './roles.queries.js';

export const SETUP_LINK_TTL_MS = 60 * 60 * 1000;

interface SetupDeps {
  db: Db;
  pools: PoolService;
  users: UserService;
  publicUrl: string;
  log: Logger;
  clock: () => Date;
}

export function createConsoleSetup(deps: SetupDeps) {
  const roles = createRoleQueries(deps.db);

  async function ensureAdminPool(): Promise<void> {
    const existing = await deps.db.selectFrom('pools').select('id').where('id', '=', ADMIN_POOL_ID).executeTakeFirst();
    if (existing) return;
    try {
      await deps.pools.createPool({
        id: ADMIN_POOL_ID,
        name: 'Tarn administrators',
        description: 'The administrators of this Tarn (the console signs in here).',
      });
      deps.log.info({ pool: ADMIN_POOL_ID }, 'admin pool created');
    } catch (error) {
      // Another instance created it at the same time.
      if ((error as { status?: number }).status !== 409) throw error;
    }
  }

  async function findLiveToken(token: string) {
    return deps.db
      .selectFrom('console_setup_tokens')
      .selectAll()
      .where('token_hash', '=', hashSecret(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', deps.clock())
      .executeTakeFirst();
  }

  return {
    ensureAdminPool,
    hasOwner: () => roles.hasOwner(),

    /** The admin pool exists; without an owner, a fresh setup link (else undefined). */
    async prepareFirstRun(): Promise<string | undefined> {
      await ensureAdminPool();
      if (await roles.hasOwner()) return undefined;
      const token = generateSecret('tsu', 24);
      await deps.db
        .insertInto('console_setup_tokens')
        .values({ token_hash: hashSecret(token), expires_at: new Date(deps.clock().getTime() + SETUP_LINK_TTL_MS), used_at: null })
        .execute();
      return `${deps.publicUrl}/console/setup?token=${encodeURIComponent(token)}`;
    },

    /** Whether the link still lets someone become the first owner. */
    async tokenUsable(token: string): Promise<boolean> {
      if (!token || (await roles.hasOwner())) return false;
      return (await findLiveToken(token)) !== undefined;
    },

    /** Creates the first owner; the link is used up. Field mistakes (password policy) leave the link usable. */
    async completeSetup(token: string, email: string, password: string): Promise<{ userId: string }> {
      if (!(await this.tokenUsable(token)))
        throw new HostedPageError(410, 'Setup link not valid', 'This setup link has expired or was already used. Restart Tarn to print a new one.');
      const pool = await deps.pools.getPoolRow(ADMIN_POOL_ID);
      const user = await deps.users.createUser(pool, { mode: 'password', email, password, emailVerified: true });
      const used = await deps.db
        .updateTable('console_setup_tokens')
        .set({ used_at: deps.clock() })
        .where('token_hash', '=', hashSecret(token))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1 || (await roles.hasOwner())) {
        await deps.users.deleteUser(ADMIN_POOL_ID, user.id);
        throw new HostedPageError(410, 'Setup link not valid', 'This setup link has expired or was already used. Restart Tarn to print a new one.');
      }
      await roles.insertRole(user.id, 'owner', null);
      deps.log.info({ userId: user.id }, 'first owner created');
      return { userId: user.id };
    },
  };
}

export type ConsoleSetup = ReturnType<typeof createConsoleSetup>;
