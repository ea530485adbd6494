/**
 * Connections of a pool: upstream OpenID providers and OAuth 2 providers users sign in
 * through (docs/adr/0900).
 * - A name is unique in the pool (409 naming `name`); it is the `idp` parameter's value.
 * - oidc needs an issuer (its discovery document gives the endpoints); oauth2 needs the
 *   authorization, token and profile endpoints. A preset fills them; the admin's fields win.
 * - The client secret is sealed at rest (crypto/envelope.ts), bound to pool and connection,
 *   and never answered.
 * - Profile fields of the claim mapping must be fields of the pool's profile schema.
 * - Linked identities are listed and unlinked per user; a connection's deletion unlinks all.
 */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { ClaimMapping, ConnectionRow, ConnectionSettings, PoolRow, PublicConnectionJwk } from '../db/tables.js';
import { isUuid } from '../http/ids.js';
import { fieldError, problems, type FieldError } from '../http/problem.js';
import type { UserSchemas } from '../users/user-schema.js';
import { createUserQueries } from '../users/users.queries.js';
import { createConnectionQueries, type ConnectionChange } from './connections.queries.js';
import type { CreateConnectionInput, UpdateConnectionInput } from './connections.schemas.js';
import { expandPreset, OIDC_MAPPING } from './presets.js';

function sealContext(poolId: string, connectionId: string): string {
  return `connection-secret:${poolId}:${connectionId}`;
}

const MULTI_TENANT = ['common', 'organizations'];

function keyContext(poolId: string, connectionId: string): string {
  return `connection-key:${poolId}:${connectionId}`;
}

/** The algorithm of connection signing keys: RS256, the one OpenID Connect servers are expected to support (Core §15.1). */
export const CONNECTION_KEY_ALG = 'RS256';

/** Where a pool publishes the public keys of its connections' client assertions. */
export function connectionJwksUrlOf(publicUrl: string, poolId: string): string {
  return `${publicUrl}/pools/${poolId}/connections/jwks`;
}

/** A new signing key for private_key_jwt: its public JWK (kid the RFC 7638 thumbprint) and its private JWK as JSON. */
async function newSigningKey(): Promise<{ publicJwk: PublicConnectionJwk; privateJwk: string }> {
  const pair = await jose.generateKeyPair(CONNECTION_KEY_ALG, { extractable: true, modulusLength: 2048 });
  const pub = await jose.exportJWK(pair.publicKey);
  const kid = await jose.calculateJwkThumbprint(pub);
  const publicJwk: PublicConnectionJwk = { kty: pub.kty!, n: pub.n, e: pub.e, kid, alg: CONNECTION_KEY_ALG, use: 'sig' };
  return { publicJwk, privateJwk: JSON.stringify({ ...(await jose.exportJWK(pair.privateKey)), kid, alg: CONNECTION_KEY_ALG }) };
}

/** Where an upstream sends the browser back after signing out (register it as a post_logout_redirect_uri). */
export function postLogoutUrlOf(publicUrl: string, poolId: string, name: string): string {
  return `${publicUrl}/pools/${poolId}/connections/${name}/logged-out`;
}

export function callbackUrlOf(publicUrl: string, poolId: string, name: string): string {
  return `${publicUrl}/pools/${poolId}/connections/${name}/callback`;
}

const nameTaken = (error: unknown): never => {
  if (isUniqueViolation(error)) throw problems.conflict('A connection with this name already exists in the pool.', [fieldError('name', 'Already in use.')]);
  throw error;
};

function mergeMapping(base: ClaimMapping, given: Partial<ClaimMapping> | undefined): ClaimMapping {
  return { ...base, ...given, profile: given?.profile ?? base.profile, metadata: given?.metadata ?? base.metadata };
}

export interface ConnectionServiceDeps {
  db: Db;
  envelope: Envelope;
  schemas: UserSchemas;
  publicUrl: string;
}

export function createConnectionService({ db, envelope, schemas, publicUrl }: ConnectionServiceDeps) {
  function toConnectionResponse(row: ConnectionRow) {
    const s = row.settings;
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      preset: row.preset,
      displayName: row.display_name,
      logoUrl: row.logo_url,
      hidden: row.hidden,
      enabled: row.enabled,
      issuer: s.issuer ?? null,
      tenant: s.tenant ?? null,
      tenants: s.tenants ?? [],
      authorizationEndpoint: s.authorizationEndpoint ?? null,
      tokenEndpoint: s.tokenEndpoint ?? null,
      profileEndpoint: s.profileEndpoint ?? null,
      clientId: row.client_id,
      hasSecret: row.secret_enc !== null,
      scopes: s.scopes,
      tokenEndpointAuthMethod: s.tokenEndpointAuthMethod,
      claimMapping: s.claimMapping,
      emailVerified: s.emailVerified,
      provisioning: s.provisioning,
      storeTokens: s.storeTokens === true,
      upstreamLogout: s.upstreamLogout === true,
      publicJwk: s.publicJwk ?? null,
      jwksUrl: connectionJwksUrlOf(publicUrl, row.pool_id),
      callbackUrl: callbackUrlOf(publicUrl, row.pool_id, row.name),
      postLogoutRedirectUrl: postLogoutUrlOf(publicUrl, row.pool_id, row.name),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /** What a type needs and what the pool's schema allows; every problem at once. */
  function checkSettings(pool: PoolRow, type: 'oidc' | 'oauth2', settings: ConnectionSettings, hasSecret: boolean, preset: string | null): void {
    const errors: FieldError[] = [];
    // Microsoft's multi-tenant endpoints take tokens from many tenants: an allow-list narrows them; one tenant needs none.
    if (settings.tenants && settings.tenants.length > 0 && (preset !== 'microsoft' || !MULTI_TENANT.includes(settings.tenant ?? '')))
      errors.push(fieldError('tenants', 'Only for the microsoft preset with tenant common or organizations.'));
    if (type === 'oidc' && !settings.issuer) errors.push(fieldError('issuer', 'Required for an oidc connection.'));
    if (type === 'oauth2') {
      for (const key of ['authorizationEndpoint', 'tokenEndpoint', 'profileEndpoint'] as const) {
        if (!settings[key]) errors.push(fieldError(key, 'Required for an oauth2 connection.'));
      }
    }
    if (type === 'oidc' && !settings.scopes.includes('openid')) errors.push(fieldError('scopes', 'An oidc connection must ask for openid.'));
    if (settings.tokenEndpointAuthMethod !== 'private_key_jwt' && !hasSecret)
      errors.push(fieldError('clientSecret', `Required with ${settings.tokenEndpointAuthMethod}.`));
    if (settings.tokenEndpointAuthMethod === 'private_key_jwt' && type !== 'oidc')
      errors.push(fieldError('tokenEndpointAuthMethod', 'private_key_jwt is for oidc connections.'));
    if (settings.upstreamLogout === true && type !== 'oidc')
      errors.push(fieldError('upstreamLogout', 'Signing out upstream is for oidc connections (OAuth 2 has no end-session endpoint).'));
    const profileSchema = schemas.profileSchemaOf(pool) as { properties?: Record<string, unknown>; additionalProperties?: unknown };
    const closed = profileSchema.additionalProperties === false;
    for (const field of Object.keys(settings.claimMapping.profile)) {
      if (closed && !(profileSchema.properties && field in profileSchema.properties)) {
        errors.push(fieldError(['claimMapping', 'profile', field], "Not a field of this pool's profile schema."));
      }
    }
    if (errors.length > 0) throw problems.validation(errors);
  }

  async function findRow(poolId: string, connectionId: string): Promise<ConnectionRow | undefined> {
    return isUuid(connectionId) ? createConnectionQueries(db, poolId).findConnection(connectionId) : undefined;
  }

  async function getRow(poolId: string, connectionId: string): Promise<ConnectionRow> {
    const row = await findRow(poolId, connectionId);
    if (!row) throw problems.notFound('Connection');
    return row;
  }

  async function getUserId(poolId: string, userId: string): Promise<string> {
    const user = isUuid(userId) ? await createUserQueries(db, poolId).findUser(userId) : undefined;
    if (!user) throw problems.notFound('User');
    return user.id;
  }

  return {
    toConnectionResponse,

    /** `record` writes the change's event in its transaction (ADR 0809), as for every change below. */
    async createConnection(pool: PoolRow, input: CreateConnectionInput, record?: RecordChange) {
      const preset = input.preset ? expandPreset(input.preset, input.tenant) : undefined;
      if (!preset && !input.type) throw problems.validation([fieldError('type', 'Give a type (oidc or oauth2) or a preset.')]);
      if (preset && input.type && input.type !== preset.type)
        throw problems.validation([fieldError('type', `The ${input.preset} preset is an ${preset.type} connection.`)]);
      if (!input.clientId) throw problems.validation([fieldError('clientId', 'Required.')]);
      const clientId = input.clientId;
      const type = preset?.type ?? input.type!;
      const base = preset?.settings ?? {};
      const settings: ConnectionSettings = {
        issuer: input.issuer ?? base.issuer,
        tenant: base.tenant,
        ...(input.tenants !== undefined ? { tenants: input.tenants.map((tenant) => tenant.toLowerCase()) } : {}),
        authorizationEndpoint: input.authorizationEndpoint ?? base.authorizationEndpoint,
        tokenEndpoint: input.tokenEndpoint ?? base.tokenEndpoint,
        profileEndpoint: input.profileEndpoint ?? base.profileEndpoint,
        scopes: input.scopes ?? base.scopes ?? (type === 'oidc' ? ['openid', 'email', 'profile'] : []),
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? base.tokenEndpointAuthMethod ?? 'client_secret_basic',
        claimMapping: mergeMapping(base.claimMapping ?? OIDC_MAPPING, input.claimMapping),
        emailVerified: input.emailVerified ?? 'claim',
        provisioning: input.provisioning ?? 'just_in_time',
        storeTokens: input.storeTokens ?? false,
        upstreamLogout: input.upstreamLogout ?? false,
      };
      checkSettings(pool, type, settings, input.clientSecret !== undefined, input.preset ?? null);
      const id = randomUUID();
      const key = settings.tokenEndpointAuthMethod === 'private_key_jwt' ? await newSigningKey() : undefined;
      if (key) settings.publicJwk = key.publicJwk;
      const row = await changeWithEvents(
        db,
        record,
        (executor) =>
          createConnectionQueries(executor, pool.id).insertConnection({
            id,
            name: input.name,
            type,
            preset: input.preset ?? null,
            display_name: input.displayName ?? preset?.displayName ?? input.name,
            logo_url: input.logoUrl ?? null,
            hidden: input.hidden ?? false,
            enabled: input.enabled ?? true,
            settings: JSON.stringify(settings),
            client_id: clientId,
            secret_enc: input.clientSecret ? envelope.seal(input.clientSecret, sealContext(pool.id, id)) : null,
            key_enc: key ? envelope.seal(key.privateJwk, keyContext(pool.id, id)) : null,
          }),
        (created) => [{ target: { type: 'connection', id: created.id } }],
      ).catch(nameTaken);
      return toConnectionResponse(row);
    },

    /** The login page's buttons: enabled connections not hidden from it. */
    async listButtons(poolId: string) {
      const rows = await createConnectionQueries(db, poolId).listConnections();
      return rows.filter((row) => row.enabled && !row.hidden).map((row) => ({ name: row.name, displayName: row.display_name, logoUrl: row.logo_url }));
    },

    async listConnections(poolId: string) {
      const rows = await createConnectionQueries(db, poolId).listConnections();
      return { items: rows.map(toConnectionResponse) };
    },

    async getConnection(poolId: string, connectionId: string) {
      return toConnectionResponse(await getRow(poolId, connectionId));
    },

    async updateConnection(pool: PoolRow, connectionId: string, input: UpdateConnectionInput, record?: RecordChange) {
      const row = await getRow(pool.id, connectionId);
      const current = row.settings;
      const settings: ConnectionSettings = {
        ...current,
        ...(input.issuer !== undefined ? { issuer: input.issuer } : {}),
        ...(input.tenants !== undefined ? { tenants: input.tenants.map((tenant) => tenant.toLowerCase()) } : {}),
        ...(input.authorizationEndpoint !== undefined ? { authorizationEndpoint: input.authorizationEndpoint } : {}),
        ...(input.tokenEndpoint !== undefined ? { tokenEndpoint: input.tokenEndpoint } : {}),
        ...(input.profileEndpoint !== undefined ? { profileEndpoint: input.profileEndpoint } : {}),
        ...(input.scopes !== undefined ? { scopes: input.scopes } : {}),
        ...(input.tokenEndpointAuthMethod !== undefined ? { tokenEndpointAuthMethod: input.tokenEndpointAuthMethod } : {}),
        ...(input.emailVerified !== undefined ? { emailVerified: input.emailVerified } : {}),
        ...(input.provisioning !== undefined ? { provisioning: input.provisioning } : {}),
        ...(input.storeTokens !== undefined ? { storeTokens: input.storeTokens } : {}),
        ...(input.upstreamLogout !== undefined ? { upstreamLogout: input.upstreamLogout } : {}),
        claimMapping: mergeMapping(current.claimMapping, input.claimMapping),
      };
      checkSettings(pool, row.type, settings, input.clientSecret !== undefined || row.secret_enc !== null, row.preset);
      const change: ConnectionChange = { settings: JSON.stringify(settings) };
      if (input.displayName !== undefined) change.display_name = input.displayName;
      if (input.logoUrl !== undefined) change.logo_url = input.logoUrl;
      if (input.hidden !== undefined) change.hidden = input.hidden;
      if (input.enabled !== undefined) change.enabled = input.enabled;
      if (input.clientId !== undefined) change.client_id = input.clientId;
      if (input.clientSecret !== undefined) change.secret_enc = envelope.seal(input.clientSecret, sealContext(pool.id, row.id));
      // The first switch to private_key_jwt makes the key; it stays (the upstream registered it) until the connection goes.
      if (settings.tokenEndpointAuthMethod === 'private_key_jwt' && row.key_enc === null) {
        const key = await newSigningKey();
        settings.publicJwk = key.publicJwk;
        change.settings = JSON.stringify(settings);
        change.key_enc = envelope.seal(key.privateJwk, keyContext(pool.id, row.id));
      }
      const updated = await changeWithEvents(db, record, async (executor) => {
        const queries = createConnectionQueries(executor, pool.id);
        const done = await queries.updateConnection(row.id, change);
        if (!done) throw problems.notFound('Connection');
        // Tokens are kept only while the connection says so: turning storeTokens off forgets them all (an ID token
        // kept for upstreamLogout comes back at the next sign-in), and so does turning upstreamLogout off without it.
        if (settings.storeTokens !== true && (current.storeTokens === true || settings.upstreamLogout !== true)) await queries.clearTokens(row.id);
        return done;
      });
      return toConnectionResponse(updated);
    },

    async deleteConnection(poolId: string, connectionId: string, record?: RecordChange): Promise<void> {
      if (!isUuid(connectionId)) throw problems.notFound('Connection');
      await changeWithEvents(db, record, async (executor) => {
        if (!(await createConnectionQueries(executor, poolId).deleteConnection(connectionId))) throw problems.notFound('Connection');
      });
    },

    /** The client secret in clear, for the token request only. */
    openSecret(row: ConnectionRow): string | undefined {
      return row.secret_enc ? envelope.open(row.secret_enc, sealContext(row.pool_id, row.id)) : undefined;
    },

    /** The private key of private_key_jwt, for the client assertion only. */
    async openSigningKey(row: ConnectionRow): Promise<{ key: jose.CryptoKey; kid: string } | undefined> {
      if (!row.key_enc) return undefined;
      const jwk = JSON.parse(envelope.open(row.key_enc, keyContext(row.pool_id, row.id))) as jose.JWK & { kid: string };
      return { key: (await jose.importJWK(jwk, CONNECTION_KEY_ALG)) as jose.CryptoKey, kid: jwk.kid };
    },

    /** The pool's published keys: the public JWK of every connection that signs client assertions. */
    async publicKeys(poolId: string): Promise<{ keys: PublicConnectionJwk[] }> {
      const rows = await createConnectionQueries(db, poolId).listConnections();
      return { keys: rows.flatMap((row) => (row.key_enc && row.settings.publicJwk ? [row.settings.publicJwk] : [])) };
    },

    async listIdentities(poolId: string, userId: string) {
      const rows = await createConnectionQueries(db, poolId).listIdentities(await getUserId(poolId, userId));
      return {
        items: rows.map((row) => ({ connection: row.connection_name, connectionId: row.connection_id, subject: row.subject, createdAt: row.created_at })),
      };
    },

    /** Unlinks the user's identity of the named connection; 404 when there is none. */
    async unlinkIdentity(poolId: string, userId: string, connectionName: string, record?: RecordChange): Promise<void> {
      const id = await getUserId(poolId, userId);
      const connection = await createConnectionQueries(db, poolId).findConnectionByName(connectionName);
      if (!connection) throw problems.notFound('Linked identity');
      await changeWithEvents(db, record, async (executor) => {
        if (!(await createConnectionQueries(executor, poolId).deleteIdentity(id, connection.id))) throw problems.notFound('Linked identity');
      });
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
