/**
 * Pools, their API secrets and their signing keys.
 * - A pool always has a current and a next secret; both authenticate. Rotation revokes
 *   current, promotes next, makes a new next. Values are shown once, stored hashed.
 * - Every change a running provider must see bumps the pool version and tells the registry.
 */
import { isLocale } from '../i18n/catalogues.js';
import { randomBytes } from 'node:crypto';
import { applyBranding, checkTagColor, mapBranding } from '../branding/branding.service.js';
import type { Envelope } from '../crypto/envelope.js';
import { generateId, generateSecret, hashSecret } from '../crypto/secrets.js';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { LockoutSettings, PasswordPolicy, PoolRow, PoolSecretRow, PoolUpdate, SignInSettings } from '../db/tables.js';
import { toPage, type Page, type PageQuery } from '../http/pagination.js';
import { fieldError, problems, type FieldError } from '../http/problem.js';
import { createKeyQueries } from '../keys/keys.queries.js';
import { generateInitialKeys, generateNextKeys, rotateSigningKeys, toKeyResponse } from '../keys/keys.service.js';
import { createPoolQueries } from './pools.queries.js';
import type { CreatePoolInput, UpdatePoolInput } from './pools.schemas.js';
import { createSecretQueries } from './secrets.queries.js';
import { showSecret } from '../http/shown-secret.js';

export const DEFAULT_SIGN_IN: SignInSettings = { password: true, emailCode: false, passkey: false, mfa: 'off', emailSecondFactor: false };
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8 };
export const DEFAULT_LOCKOUT: LockoutSettings = { maxAttempts: 5, windowSeconds: 900 };

export interface PoolChangeListener {
  poolChanged(poolId: string): void;
}

export interface PoolServiceDeps {
  db: Db;
  envelope: Envelope;
  publicUrl: string;
  listener: PoolChangeListener;
  clock?: () => Date;
  /** Refuses profile/metadata schemas that do not compile (users/user-schema.ts). */
  userSchemas?: { checkSchema(schema: Record<string, unknown> | null | undefined, field: string): FieldError[] };
}

export function issuerFor(publicUrl: string, poolId: string): string {
  return `${publicUrl}/pools/${poolId}`;
}

/** The pool as the admin API shows it. */
export function mapPool(row: PoolRow, publicUrl: string) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    logoUrl: row.logo_url,
    tagColor: row.tag_color,
    defaultLocale: isLocale(row.default_locale) ? row.default_locale : null,
    selfRegistration: row.self_registration,
    signIn: { ...row.sign_in, mfa: row.sign_in.mfa ?? 'off', emailSecondFactor: row.sign_in.emailSecondFactor ?? false },
    profileSchema: row.profile_schema,
    metadataSchema: row.metadata_schema,
    passwordPolicy: row.password_policy,
    lockout: row.lockout,
    account: { allowDeletion: row.account?.allowDeletion ?? false },
    branding: mapBranding(row.id, row.branding, publicUrl),
    issuer: issuerFor(publicUrl, row.id),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type PoolResponse = ReturnType<typeof mapPool>;

export function createPoolService({ db, envelope, publicUrl, listener, clock = () => new Date(), userSchemas }: PoolServiceDeps) {
  const pools = createPoolQueries(db);

  function checkUserSchemas(input: {
    profileSchema?: Record<string, unknown> | null | undefined;
    metadataSchema?: Record<string, unknown> | null | undefined;
  }): void {
    if (!userSchemas) return;
    const errors = [...userSchemas.checkSchema(input.profileSchema, 'profileSchema'), ...userSchemas.checkSchema(input.metadataSchema, 'metadataSchema')];
    if (errors.length) throw problems.validation(errors, 'A user schema is not a valid JSON Schema.');
  }

  const issuerOf = (poolId: string) => issuerFor(publicUrl, poolId);
  const toPoolResponse = (row: PoolRow) => mapPool(row, publicUrl);

  /** The one answer to "does this pool exist?": its row, or 404. */
  async function getPoolRow(poolId: string): Promise<PoolRow> {
    const row = await pools.findPool(poolId);
    if (!row) throw problems.notFound('Pool');
    return row;
  }

  async function issueSecret(trx: Db, poolId: string, status: 'current' | 'next') {
    const id = generateId('sec', 9);
    const secret = generateSecret('tps');
    const createdAt = await createSecretQueries(trx, poolId).insertSecret(id, status, hashSecret(secret));
    return showSecret(secret, { id, createdAt });
  }

  function toSecretResponse(row: PoolSecretRow) {
    return { id: row.id, status: row.status, createdAt: row.created_at, revokedAt: row.revoked_at };
  }

  return {
    toPoolResponse,
    issuerOf,
    getPoolRow,

    /** `record` writes `pool.create` in the pool's own transaction (ADR 0809). */
    async createPool(input: CreatePoolInput, record?: RecordChange) {
      checkUserSchemas(input);
      checkTagColor(input.tagColor);
      const branding = applyBranding({}, input.branding, input.tagColor ?? null);
      const id = input.id ?? `pool-${randomBytes(5).toString('hex')}`;
      const keys = await generateInitialKeys(envelope, id);
      try {
        return await changeWithEvents(
          db,
          record,
          async (trx) => {
            const queries = createPoolQueries(trx);
            const row = await queries.insertPool({
              id,
              name: input.name,
              description: input.description ?? '',
              logo_url: input.logoUrl ?? null,
              tag_color: input.tagColor ?? null,
              default_locale: input.defaultLocale ?? null,
              self_registration: input.selfRegistration ?? false,
              sign_in: JSON.stringify({ ...DEFAULT_SIGN_IN, ...input.signIn }),
              profile_schema: JSON.stringify(input.profileSchema ?? null),
              metadata_schema: JSON.stringify(input.metadataSchema ?? null),
              password_policy: JSON.stringify({ ...DEFAULT_PASSWORD_POLICY, ...input.passwordPolicy }),
              lockout: JSON.stringify({ ...DEFAULT_LOCKOUT, ...input.lockout }),
              account: JSON.stringify({ allowDeletion: false, ...input.account }),
              branding: JSON.stringify(branding),
            });
            await queries.deletePoolArtifacts(id);
            const current = await issueSecret(trx, id, 'current');
            const next = await issueSecret(trx, id, 'next');
            await createKeyQueries(trx, id).insertKeys(keys);
            return { ...toPoolResponse(row), secret: current, nextSecret: next };
          },
          () => [{ target: { type: 'pool', id } }],
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw problems.conflict(`A pool with id "${id}" already exists.`, [fieldError('id', 'Already taken.')]);
        throw error;
      }
    },

    async listPools(page: PageQuery, only?: string[]): Promise<Page<PoolResponse>> {
      const rows = await pools.listPools(page.limit + 1, page.cursor, only);
      return toPage(rows, page.limit, (row) => row.id, toPoolResponse);
    },

    /** `record` writes `pool.update` in the change's transaction (ADR 0809). */
    async updatePool(current: PoolRow, input: UpdatePoolInput, record?: RecordChange) {
      checkUserSchemas(input);
      checkTagColor(input.tagColor);
      const poolId = current.id;
      const change: PoolUpdate = {};
      if (input.name !== undefined) change.name = input.name;
      if (input.description !== undefined) change.description = input.description;
      if (input.logoUrl !== undefined) change.logo_url = input.logoUrl;
      if (input.tagColor !== undefined) change.tag_color = input.tagColor;
      if (input.defaultLocale !== undefined) change.default_locale = input.defaultLocale;
      if (input.selfRegistration !== undefined) change.self_registration = input.selfRegistration;
      if (input.signIn !== undefined) change.sign_in = JSON.stringify({ ...current.sign_in, ...input.signIn });
      if (input.profileSchema !== undefined) change.profile_schema = JSON.stringify(input.profileSchema);
      if (input.metadataSchema !== undefined) change.metadata_schema = JSON.stringify(input.metadataSchema);
      if (input.passwordPolicy !== undefined) change.password_policy = JSON.stringify({ ...current.password_policy, ...input.passwordPolicy });
      if (input.lockout !== undefined) change.lockout = JSON.stringify({ ...current.lockout, ...input.lockout });
      if (input.account !== undefined) change.account = JSON.stringify({ ...current.account, ...input.account });
      if (input.branding !== undefined || input.tagColor !== undefined) {
        const tagColor = input.tagColor !== undefined ? input.tagColor : current.tag_color;
        change.branding = JSON.stringify(applyBranding(current.branding, input.branding, tagColor));
      }
      const row = await changeWithEvents(db, record, async (executor) => {
        const updated = await createPoolQueries(executor).updatePool(poolId, change);
        // Rolled back with nothing to record: the route answers 404.
        if (!updated) throw problems.notFound('Pool');
        return updated;
      });
      listener.poolChanged(poolId);
      return toPoolResponse(row);
    },

    async deletePool(poolId: string): Promise<void> {
      const deleted = await db.transaction().execute(async (trx) => {
        const queries = createPoolQueries(trx);
        if (!(await queries.deletePool(poolId))) return false;
        await queries.deletePoolArtifacts(poolId);
        return true;
      });
      if (!deleted) throw problems.notFound('Pool');
      listener.poolChanged(poolId);
    },

    async listSecrets(poolId: string) {
      const rows = await createSecretQueries(db, poolId).listSecrets();
      return { items: rows.map(toSecretResponse), nextCursor: null };
    },

    /** Rotate and revoke: current → revoked, next → current, a new next (returned once). */
    async rotateSecrets(poolId: string, record?: RecordChange) {
      const { next, rows } = await changeWithEvents(
        db,
        record,
        async (executor) => {
          const secrets = createSecretQueries(executor, poolId);
          await secrets.moveSecrets('current', 'revoked');
          await secrets.moveSecrets('next', 'current');
          const issued = await issueSecret(executor, poolId, 'next');
          return { next: issued, rows: await secrets.listSecrets() };
        },
        (rotated) => [
          {
            details: {
              nextSecretId: rotated.rows.find((row) => row.status === 'next')?.id,
              currentSecretId: rotated.rows.find((row) => row.status === 'current')?.id,
            },
          },
        ],
      );
      return { nextSecret: next, items: rows.map(toSecretResponse) };
    },

    /** True when `secret` is the pool's current or next secret. */
    async authenticateSecret(poolId: string, secret: string): Promise<string | undefined> {
      const row = await createSecretQueries(db, poolId).findLiveSecretByHash(hashSecret(secret));
      return row?.id;
    },

    async listKeys(poolId: string) {
      const now = clock();
      const rows = await createKeyQueries(db, poolId).listKeys();
      return { items: rows.map((row) => toKeyResponse(row, now)), nextCursor: null };
    },

    async rotateKeys(poolId: string, options: { revoke: boolean }, record?: RecordChange) {
      const fresh = await generateNextKeys(envelope, poolId);
      const rows = await changeWithEvents(
        db,
        record,
        async (executor) => {
          await rotateSigningKeys(executor, poolId, fresh, options);
          await createPoolQueries(executor).bumpPoolVersion(poolId);
          return createKeyQueries(executor, poolId).listKeys();
        },
        (keys) => [{ details: { revoke: options.revoke, currentKids: keys.filter((key) => key.status === 'current').map((key) => key.kid) } }],
      );
      listener.poolChanged(poolId);
      const now = clock();
      return { items: rows.map((row) => toKeyResponse(row, now)), nextCursor: null };
    },
  };
}

export type PoolService = ReturnType<typeof createPoolService>;
