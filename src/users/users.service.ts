/**
 * Users of a pool: admin creation (password or invitation), reads, changes, deletion,
 * the password check behind the login page, and the user's own profile (/me).
 * - profile and metadata are validated against the pool's schemas on every write
 *   (user-schema.ts); a schema change applies to the next write, stored data is kept.
 * - every password set goes through the pool's password policy, naming the rule broken.
 * - disabling or deleting a user ends their sessions and revokes their tokens at once.
 * Responses go through toUserResponse, which has no password hash in it.
 */
import { randomUUID } from 'node:crypto';
import { changeWithEvents, type ChangeEvent, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import { isUuid } from '../http/ids.js';
import { toPage } from '../http/pagination.js';
import { fieldError, problems } from '../http/problem.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import { invitationMail, mailBrandOf, mailLocale } from '../mail/templates.js';
import { createAccountArtifactQueries } from './account-artifacts.queries.js';
import { INVITATION_TTL_MS, type CodeService } from './codes.service.js';
import type { SignInGuard } from './lockout.service.js';
import type { PasswordHasher } from './password.js';
import { passwordProblems } from './password-policy.js';
import type { UserSchemas } from './user-schema.js';
import { createUserFinder, createUserQueries, type UserChange } from './users.queries.js';
import type { CreateUserInput, ListUsersQuery, UpdateMeInput, UpdateUserInput } from './users.schemas.js';

export function toUserResponse(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    phone: row.phone,
    status: row.status,
    profile: row.profile,
    metadata: row.metadata,
    hasPassword: row.password_hash !== null,
    passwordChange: row.password_change,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
}

/** What a user sees of themselves: never metadata, never the password hash. */
export function toMeResponse(row: UserRow) {
  return { sub: row.id, email: row.email, emailVerified: row.email_verified, phone: row.phone, profile: row.profile, updatedAt: row.updated_at };
}

/**
 * A password sign-in's outcome. `disabled` and `locked` only after the right password: anyone
 * else gets `invalid`, whatever the account's state (no oracle for those without the password).
 */
export type PasswordCheck =
  { ok: true; user: UserRow } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'disabled' } | { ok: false; reason: 'locked'; lockedUntil: Date };

export interface UserServiceDeps {
  db: Db;
  hasher: PasswordHasher;
  schemas: UserSchemas;
  codes: CodeService;
  guard: SignInGuard;
  mailer: Mailer;
  log: Logger;
  publicUrl: string;
  clock?: () => Date;
}

function userTarget(id: string) {
  return { type: 'user', id };
}

/**
 * The events of an admin's change to a user (docs/events.md): one per thing that happened,
 * whatever else the same request changed. The status says disabled, enabled or activated,
 * a new address is user.email_changed, a password set without the old one user.password_reset,
 * and every other field user.profile_changed (its names in `details.fields`, never the values).
 */
export function lifecycleEvents(before: UserRow, after: UserRow, input: UpdateUserInput): ChangeEvent[] {
  const target = userTarget(after.id);
  const events: ChangeEvent[] = [];
  if (before.status !== after.status) {
    const action =
      after.status === 'disabled'
        ? 'user.disabled'
        : before.status === 'disabled'
          ? 'user.enabled'
          : after.status === 'active'
            ? 'user.activated'
            : 'user.deactivated';
    events.push({ action, target, details: { from: before.status, status: after.status } });
  }
  if (before.email !== after.email) events.push({ action: 'user.email_changed', target, details: { emailVerified: after.email_verified } });
  if (input.password !== undefined) events.push({ action: 'user.password_reset', target });
  const fields = (['emailVerified', 'phone', 'profile', 'metadata', 'passwordChange'] as const).filter(
    (field) => input[field] !== undefined && !(field === 'emailVerified' && before.email !== after.email),
  );
  if (fields.length) events.push({ action: 'user.profile_changed', target, details: { fields } });
  return events;
}

export function createUserService({ db, hasher, schemas, codes, guard, mailer, log, publicUrl, clock = () => new Date() }: UserServiceDeps) {
  /** Only active users exist for the provider; a sub that is not a uuid names nobody (and never reaches SQL). */
  async function findActive(userId: string, find: (id: string) => Promise<UserRow | undefined>): Promise<UserRow | undefined> {
    if (!isUuid(userId)) return undefined;
    const user = await find(userId);
    return user?.status === 'active' ? user : undefined;
  }

  async function getUserRow(poolId: string, userId: string): Promise<UserRow> {
    // Not a uuid → cannot exist; answering here keeps a malformed id from reaching SQL as a 500.
    const row = isUuid(userId) ? await createUserQueries(db, poolId).findUser(userId) : undefined;
    if (!row) throw problems.notFound('User');
    return row;
  }

  function checkPassword(pool: PoolRow, password: string, email: string): void {
    const found = passwordProblems(pool.password_policy, password, email);
    if (found.length)
      throw problems.validation(
        found.map((detail) => fieldError('password', detail)),
        "The password does not meet the pool's password policy.",
      );
  }

  function checkProfile(pool: PoolRow, profile: Record<string, unknown>): void {
    const errors = schemas.validate(schemas.profileSchemaOf(pool), profile, 'profile');
    if (errors.length) throw problems.validation(errors, "The profile does not match the pool's profile schema.");
  }

  function checkMetadata(pool: PoolRow, metadata: Record<string, unknown>): void {
    const errors = schemas.validate(schemas.metadataSchemaOf(pool), metadata, 'metadata');
    if (errors.length) throw problems.validation(errors, "The metadata does not match the pool's metadata schema.");
  }

  function emailTaken(error: unknown): never {
    if (isUniqueViolation(error)) throw problems.conflict('A user with this email already exists in the pool.', [fieldError('email', 'Already in use.')]);
    throw error;
  }

  /** With `record` and `event`, the code is issued with that event in one transaction (ADR 0809); the mail follows the commit. */
  async function sendInvitation(pool: PoolRow, user: UserRow, record?: RecordChange, event?: ChangeEvent) {
    const options = { purpose: 'invitation' as const, email: user.email, userId: user.id, ttlMs: INVITATION_TTL_MS, withLinkToken: true };
    const issued =
      record && event
        ? await changeWithEvents(
            db,
            record,
            (executor) => codes.issueCode(pool.id, options, executor),
            () => [event],
          )
        : await codes.issueCode(pool.id, options);
    const link = `${publicUrl}/pools/${pool.id}/activate?token=${issued.token}`;
    try {
      const locale = mailLocale(undefined, user, pool);
      await mailer.send(invitationMail(mailBrandOf(pool, publicUrl, locale), user.email, link, issued.code, issued.expiresAt, locale));
    } catch (error) {
      log.error({ err: error, poolId: pool.id, userId: user.id }, 'invitation mail failed');
      throw problems.unavailable('The invitation mail could not be sent. The user exists; send the invitation again later.');
    }
    return { sentTo: user.email, expiresAt: issued.expiresAt };
  }

  /** Ends the user's sessions and revokes their grants and tokens (in the executor's transaction, if any). */
  async function revokeAccess(poolId: string, userId: string, executor: Db = db): Promise<void> {
    await createAccountArtifactQueries(executor, poolId).deleteArtifactsOfAccount(userId);
  }

  /**
   * An imported hash (bcrypt, PBKDF2, …) or older argon2id parameters become the pool's
   * argon2id at the first sign-in, the only moment the password is known. A password the
   * import flagged "change if weak" that fails the current policy becomes "change required".
   * Failing here costs the user nothing: the old hash still works next time.
   */
  async function upgradeHash(pool: PoolRow, user: UserRow, password: string): Promise<UserRow> {
    try {
      const change: UserChange = { password_hash: await hasher.hash(password) };
      if (user.password_change === 'if_weak') change.password_change = weakPasswordChange(pool, user, password);
      return (await createUserQueries(db, pool.id).updateUser(user.id, change)) ?? user;
    } catch (error) {
      log.error({ err: error, poolId: pool.id, userId: user.id }, 'password rehash failed');
      return user;
    }
  }

  /** "Change if weak" settles at the first sign-in, when the password is known: required, or nothing. */
  function weakPasswordChange(pool: PoolRow, user: UserRow, password: string): 'required' | null {
    return passwordProblems(pool.password_policy, password, user.email).length ? 'required' : null;
  }

  return {
    getUserRow,
    revokeAccess,
    sendInvitation,
    checkPassword,
    checkProfile,

    /** `record` writes `user.created` (or `user.invited`) in the insert's transaction (ADR 0809). */
    async createUser(pool: PoolRow, input: CreateUserInput, record?: RecordChange) {
      const poolId = pool.id;
      const profile = input.profile ?? {};
      const metadata = input.metadata ?? {};
      checkProfile(pool, profile);
      checkMetadata(pool, metadata);
      if (input.mode === 'password') checkPassword(pool, input.password, input.email);
      const passwordHash = input.mode === 'password' ? await hasher.hash(input.password) : null;
      const row = await changeWithEvents(
        db,
        record,
        (executor) =>
          createUserQueries(executor, poolId).insertUser({
            id: randomUUID(),
            email: input.email,
            email_verified: input.emailVerified ?? false,
            phone: input.phone ?? null,
            status: input.mode === 'password' ? 'active' : 'new',
            profile: JSON.stringify(profile),
            metadata: JSON.stringify(metadata),
            password_hash: passwordHash,
          }),
        // The invitation mail follows the commit: a user.invited whose mail failed is answered 503 (send it again).
        (created) => [
          { action: input.mode === 'invite' ? 'user.invited' : 'user.created', target: userTarget(created.id), details: { status: created.status } },
        ],
      ).catch(emailTaken);
      if (input.mode === 'invite') return { ...toUserResponse(row), invitation: await sendInvitation(pool, row) };
      return toUserResponse(row);
    },

    /** POST …/users/{id}/invitation: a new link and code; the previous ones stop working. */
    async resendInvitation(pool: PoolRow, userId: string, record?: RecordChange) {
      const user = await getUserRow(pool.id, userId);
      if (user.status !== 'new')
        throw problems.conflict(`The user is ${user.status}; only users with status "new" can be invited.`, [fieldError('status', `Is "${user.status}".`)]);
      const sent = await sendInvitation(pool, user);
      // The change is the new code (written by the code service on its own); the event follows the mail.
      if (record) await record(db, [{ action: 'user.invited', target: userTarget(user.id), details: { status: user.status, again: true } }]);
      return sent;
    },

    async getUser(poolId: string, userId: string) {
      const row = await getUserRow(poolId, userId);
      return { ...toUserResponse(row), lockout: await guard.describeLockout(poolId, userId) };
    },

    async listUsers(poolId: string, query: ListUsersQuery) {
      const queries = createUserQueries(db, poolId);
      const rows = await queries.listUsers(query, query.limit + 1, query.cursor, query.sort);
      const keyOf = (row: UserRow) =>
        query.sort === 'email' ? row.email.toLowerCase() : query.sort === 'id' ? row.id : `${new Date(row.created_at).toISOString()}|${row.id}`;
      const page = toPage(rows, query.limit, keyOf, toUserResponse);
      return query.total ? { ...page, total: await queries.countUsers(query) } : page;
    },

    /** `record` writes the change's events (lifecycleEvents) in its transaction (ADR 0809). */
    async updateUser(pool: PoolRow, userId: string, input: UpdateUserInput, record?: RecordChange) {
      const poolId = pool.id;
      const current = await getUserRow(poolId, userId);
      const change: UserChange = {};
      if (input.email !== undefined && input.email !== current.email) {
        change.email = input.email;
        change.email_verified = input.emailVerified ?? false;
      }
      if (input.emailVerified !== undefined) change.email_verified = input.emailVerified;
      if (input.phone !== undefined) change.phone = input.phone;
      if (input.status !== undefined) change.status = input.status;
      if (input.profile !== undefined) {
        checkProfile(pool, input.profile);
        change.profile = JSON.stringify(input.profile);
      }
      if (input.metadata !== undefined) {
        checkMetadata(pool, input.metadata);
        change.metadata = JSON.stringify(input.metadata);
      }
      if (input.password !== undefined) {
        checkPassword(pool, input.password, input.email ?? current.email);
        change.password_hash = await hasher.hash(input.password);
        // A password the admin sets meets the policy: an import's "change if weak" no longer applies.
        change.password_change = null;
      }
      if (input.passwordChange !== undefined) change.password_change = input.passwordChange;
      const row = await changeWithEvents(
        db,
        record,
        async (executor) => {
          const updated = await createUserQueries(executor, poolId).updateUser(userId, change);
          if (!updated) throw problems.notFound('User');
          if (updated.status === 'disabled' && current.status !== 'disabled') await revokeAccess(poolId, userId, executor);
          return updated;
        },
        (updated) => lifecycleEvents(current, updated, input),
      ).catch(emailTaken);
      return { ...toUserResponse(row), lockout: await guard.describeLockout(poolId, userId) };
    },

    async deleteUser(poolId: string, userId: string, record?: RecordChange): Promise<void> {
      await getUserRow(poolId, userId);
      await changeWithEvents(
        db,
        record,
        async (executor) => {
          await createUserQueries(executor, poolId).deleteUser(userId);
          await revokeAccess(poolId, userId, executor);
        },
        () => [{ action: 'user.deleted', target: userTarget(userId) }],
      );
    },

    async getLockout(poolId: string, userId: string) {
      await getUserRow(poolId, userId);
      return guard.describeLockout(poolId, userId);
    },

    /** `user.unlocked` when a lock was in force; clearing a count of failures alone is the route's own event. */
    async clearLockout(poolId: string, userId: string, record?: RecordChange): Promise<void> {
      await getUserRow(poolId, userId);
      const before = await guard.describeLockout(poolId, userId);
      await changeWithEvents(
        db,
        record,
        (executor) => guard.clearLockout(poolId, userId, executor),
        () => (before.locked ? [{ action: 'user.unlocked', target: userTarget(userId), details: { lockedUntil: before.lockedUntil?.toISOString() } }] : []),
      );
    },

    /**
     * The password check behind the login form. The same work (one argon2 verification)
     * and the same answer whether the email is unknown, the password wrong, the user
     * locked or not active. (Guessing from one network is the request frame's limit.)
     */
    async verifyPassword(pool: PoolRow, email: string, password: string): Promise<PasswordCheck> {
      const poolId = pool.id;
      // One query for the user and the user's lockout: the same for unknown emails.
      const { user, lockout } = await guard.assess(poolId, email);
      const matches = user?.password_hash ? await hasher.verify(user.password_hash, password) : await hasher.verifyNothing(password);
      if (!user || !matches || lockout.locked || user.status !== 'active') {
        if (user) await guard.recordFailure(poolId, pool.lockout, user.id);
        // The password is checked first: only its holder learns why a right password was refused.
        // While locked, that is told only within as many tries again as the lock allowed, so the
        // lock still bounds guessing (twice the pool's attempts per lock at most; ADR 0400).
        const mayTell = user && matches && (!lockout.locked || lockout.failures < 2 * Math.max(pool.lockout.maxAttempts, 1));
        if (mayTell && lockout.locked && lockout.lockedUntil) return { ok: false, reason: 'locked', lockedUntil: lockout.lockedUntil };
        if (mayTell && user.status === 'disabled') return { ok: false, reason: 'disabled' };
        return { ok: false, reason: 'invalid' };
      }
      // A success starts the count afresh; with no failures counted there is nothing to clear.
      if (lockout.windowStartedAt) await guard.recordSuccess(poolId, user.id);
      await createUserQueries(db, poolId).touchLastLogin(user.id);
      if (hasher.needsRehash(user.password_hash!)) return { ok: true, user: await upgradeHash(pool, user, password) };
      if (user.password_change === 'if_weak') {
        const settled = await createUserQueries(db, poolId).updateUser(user.id, { password_change: weakPasswordChange(pool, user, password) });
        return { ok: true, user: settled ?? user };
      }
      return { ok: true, user };
    },

    /**
     * The "choose a new password" step of the hosted login, for a user who must change theirs
     * (an import's weak password, or the admin's choice). The pool's policy applies, and the
     * new password must differ from the current one. Throws a validation problem naming the rule.
     */
    /** `record` writes `user.password_changed` (reason "required") in the update's transaction (ADR 0809). */
    async replaceRequiredPassword(pool: PoolRow, userId: string, password: string, record?: RecordChange): Promise<UserRow> {
      const user = await getUserRow(pool.id, userId);
      checkPassword(pool, password, user.email);
      if (user.password_hash && (await hasher.verify(user.password_hash, password))) {
        throw problems.validation([fieldError('password', 'Choose a password different from your current one.')], 'The new password is the current one.');
      }
      const passwordHash = await hasher.hash(password);
      return changeWithEvents(
        db,
        record,
        async (executor) => {
          const row = await createUserQueries(executor, pool.id).updateUser(user.id, { password_hash: passwordHash, password_change: null });
          if (!row) throw problems.notFound('User');
          return row;
        },
        () => [{ action: 'user.password_changed', target: userTarget(user.id), details: { reason: 'required' } }],
      );
    },

    /** The account behind a token or session: only active users exist for the provider. */
    findActiveUser(poolId: string, userId: string): Promise<UserRow | undefined> {
      return findActive(userId, (id) => createUserQueries(db, poolId).findUser(id));
    },

    /** findActiveUser for one pool, with the lookups of one turn in one query (the provider's findAccount). */
    activeUserFinder(poolId: string): (userId: string) => Promise<UserRow | undefined> {
      const find = createUserFinder(db, poolId);
      return (userId) => findActive(userId, find);
    },

    async getMe(poolId: string, userId: string) {
      return toMeResponse(await getUserRow(poolId, userId));
    },

    /** The user edits their own profile: merged over the stored one (null removes), then schema-checked whole. */
    /** `record` writes `user.profile_changed` (the names of the fields sent) in the update's transaction (ADR 0809). */
    async updateMe(pool: PoolRow, userId: string, input: UpdateMeInput, record?: RecordChange, fields = Object.keys(input.profile).sort()) {
      const poolId = pool.id;
      const current = await getUserRow(poolId, userId);
      const profile: Record<string, unknown> = { ...current.profile };
      for (const [name, value] of Object.entries(input.profile)) {
        if (value === null) delete profile[name];
        else profile[name] = value;
      }
      checkProfile(pool, profile);
      const row = await changeWithEvents(
        db,
        record,
        async (executor) => {
          const updated = await createUserQueries(executor, poolId).updateUser(userId, { profile: JSON.stringify(profile) });
          if (!updated) throw problems.notFound('User');
          return updated;
        },
        () => [{ action: 'user.profile_changed', target: userTarget(userId), details: { fields } }],
      );
      return toMeResponse(row);
    },

    now: clock,
  };
}

export type UserService = ReturnType<typeof createUserService>;
