/**
 * Users of a pool: admin creation, reads, changes, deletion, and the password check the
 * login page uses. Responses go through toUserResponse, which has no password hash in it.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PoolRow, UserRow } from '../db/tables.js';
import { parsePageRequest, toPage } from '../http/pagination.js';
import { fieldError, problems } from '../http/problem.js';
import { parseInput } from '../http/validation.js';
import { createPoolQueries } from '../pools/pools.queries.js';
import type { PasswordHasher } from './password.js';
import { passwordProblems } from './password-policy.js';
import { createUserQueries, type UserChange } from './users.queries.js';
import { listUsersQuery, type CreateUserInput, type UpdateUserInput } from './users.schemas.js';

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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface UserServiceDeps {
  db: Db;
  hasher: PasswordHasher;
}

export function createUserService({ db, hasher }: UserServiceDeps) {
  async function getPool(poolId: string): Promise<PoolRow> {
    const pool = await createPoolQueries(db).findPool(poolId);
    if (!pool) throw problems.notFound('Pool');
    return pool;
  }

  async function getUserRow(poolId: string, userId: string): Promise<UserRow> {
    // Not a uuid → cannot exist; answering here keeps a malformed id from reaching SQL as a 500.
    const row = UUID.test(userId) ? await createUserQueries(db, poolId).findUser(userId) : undefined;
    if (!row) throw problems.notFound('User');
    return row;
  }

  function checkPassword(pool: PoolRow, password: string, email: string): void {
    const found = passwordProblems(pool.password_policy, password, email);
    if (found.length) throw problems.validation(found.map((detail) => fieldError('password', detail)), 'The password does not meet the pool\'s password policy.');
  }

  function emailTaken(error: unknown): never {
    if (isUniqueViolation(error)) throw problems.conflict('A user with this email already exists in the pool.', [fieldError('email', 'Already in use.')]);
    throw error;
  }

  return {
    getUserRow,

    async createUser(poolId: string, input: CreateUserInput) {
      const pool = await getPool(poolId);
      checkPassword(pool, input.password, input.email);
      const passwordHash = await hasher.hash(input.password);
      const row = await createUserQueries(db, poolId)
        .insertUser({
          id: randomUUID(),
          email: input.email,
          email_verified: input.emailVerified ?? false,
          phone: input.phone ?? null,
          status: 'active',
          profile: JSON.stringify(input.profile ?? {}),
          metadata: JSON.stringify(input.metadata ?? {}),
          password_hash: passwordHash,
        })
        .catch(emailTaken);
      return toUserResponse(row);
    },

    async getUser(poolId: string, userId: string) {
      return toUserResponse(await getUserRow(poolId, userId));
    },

    async listUsers(poolId: string, query: Record<string, unknown>) {
      await getPool(poolId);
      const page = parsePageRequest(query);
      const filter = parseInput(listUsersQuery, { email: query.email, status: query.status }, 'query');
      const rows = await createUserQueries(db, poolId).listUsers(filter, page.limit + 1, page.after);
      return toPage(rows, page.limit, (row) => row.id, toUserResponse);
    },

    async updateUser(poolId: string, userId: string, input: UpdateUserInput) {
      const pool = await getPool(poolId);
      const current = await getUserRow(poolId, userId);
      const change: UserChange = {};
      if (input.email !== undefined && input.email !== current.email) {
        change.email = input.email;
        change.email_verified = input.emailVerified ?? false;
      }
      if (input.emailVerified !== undefined) change.email_verified = input.emailVerified;
      if (input.phone !== undefined) change.phone = input.phone;
      if (input.status !== undefined) change.status = input.status;
      if (input.profile !== undefined) change.profile = JSON.stringify(input.profile);
      if (input.metadata !== undefined) change.metadata = JSON.stringify(input.metadata);
      if (input.password !== undefined) {
        checkPassword(pool, input.password, input.email ?? current.email);
        change.password_hash = await hasher.hash(input.password);
      }
      const row = await createUserQueries(db, poolId).updateUser(userId, change).catch(emailTaken);
      if (!row) throw problems.notFound('User');
      return toUserResponse(row);
    },

    async deleteUser(poolId: string, userId: string): Promise<void> {
      await getUserRow(poolId, userId);
      await createUserQueries(db, poolId).deleteUser(userId);
    },

    /**
     * The password check behind the login form: the user when the email and password
     * match an active account, else undefined — after the same work either way.
     */
    async verifyPassword(poolId: string, email: string, password: string): Promise<UserRow | undefined> {
      const users = createUserQueries(db, poolId);
      const user = await users.findUserByEmail(email);
      if (!user?.password_hash) {
        await hasher.verifyNothing(password);
        return undefined;
      }
      const ok = await hasher.verify(user.password_hash, password);
      if (!ok || user.status !== 'active') return undefined;
      await users.touchLastLogin(user.id);
      return user;
    },

    /** The account behind a token or session: only active users exist for the provider. */
    async findActiveUser(poolId: string, userId: string): Promise<UserRow | undefined> {
      if (!UUID.test(userId)) return undefined;
      const user = await createUserQueries(db, poolId).findUser(userId);
      return user?.status === 'active' ? user : undefined;
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
