/**
 * Applications of a pool.
 * - client_secret_basic / client_secret_post get a generated secret, shown once
 *   (creation and rotation), sealed at rest with the master key;
 * - `none` is a public client: no secret, no client_credentials, PKCE S256 always;
 * - private_key_jwt needs the client's public JWKS;
 * - refresh_token comes with a user grant (authorization_code or the device grant);
 * - resources are the RFC 8707 resource servers the client may get JWT access tokens
 *   for, each with its scopes (docs/adr/0600-resource-servers.md); no duplicates;
 * - the metadata is also checked by the pool's provider (Client.validate), so what the
 *   admin API accepts is what the provider will load;
 * - the back-channel logout URI must be a destination the deployment lets Tarn call
 *   (OUTGOING_NETWORKS, src/net/outgoing-policy.ts); delivery checks it again on the resolved address.
 */
import type { PublicJwk } from '../keys/jwk.schemas.js';
import { randomBytes } from 'node:crypto';
import type { Envelope } from '../crypto/envelope.js';
import { generateSecret } from '../crypto/secrets.js';
import { showSecret } from '../http/shown-secret.js';
import type { Db } from '../db/database.js';
import { changeWithEvents, type ChangeEvent, type RecordChange } from '../audit/audit.service.js';
import { isUniqueViolation } from '../db/errors.js';
import type { ClientResource, ClientRow } from '../db/tables.js';
import { toPage, type PageQuery } from '../http/pagination.js';
import { fieldError, problems, type FieldError } from '../http/problem.js';
import type { OutgoingPolicy } from '../net/outgoing-policy.js';
import type { PoolChangeListener } from '../pools/pools.service.js';
import { createPoolQueries } from '../pools/pools.queries.js';
import { createClientQueries, type ClientChange } from './clients.queries.js';
import { DEVICE_CODE_GRANT, type CreateClientInput, type UpdateClientInput } from './clients.schemas.js';

import { BUILT_IN_CLIENT_PREFIX, isReservedClientId } from '../oidc/built-in-clients.js';

export type OidcClientMetadata = Record<string, unknown> & { client_id: string };

export interface ClientServiceDeps {
  db: Db;
  envelope: Envelope;
  listener: PoolChangeListener;
  /** Checks metadata with the pool's provider; resolves to a description of what is wrong, or undefined. */
  checkMetadata(poolId: string, metadata: OidcClientMetadata): Promise<string | undefined>;
  /** The deployment's outgoing-network policy: where Tarn may be made to send requests. */
  outgoing: Pick<OutgoingPolicy, 'refusalForUrl'>;
}

interface ClientShape {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: string;
  backchannelLogoutUri: string | null;
  clientUri: string | null;
  initiateLoginUri: string | null;
  jwks: { keys: Record<string, unknown>[] } | null;
  dpopBoundAccessTokens: boolean;
  resources: ClientResource[];
  idTokenSignedResponseAlg: string;
  refreshTokenReuseGraceSeconds: number;
  requireMfa: boolean;
  firstParty: boolean;
}

/** Client metadata the provider keeps on the Client for getResourceServerInfo (provider-config). */
export const RESOURCES_METADATA = 'tarn_resources';
/** Client metadata the provider keeps for the refresh-token reuse grace period (oidc/refresh-grace.ts). */
export const REFRESH_GRACE_METADATA = 'tarn_refresh_token_reuse_grace_seconds';
/** Client metadata the provider keeps when every sign-in to the client needs a second factor (docs/adr/0309). */
export const REQUIRE_MFA_METADATA = 'tarn_require_mfa';
/** Client metadata the provider keeps for first-party applications: no consent page (docs/adr/0401). */
export const FIRST_PARTY_METADATA = 'tarn_first_party';

/** The columns a shape sets, as stored (JSON columns serialised). */
function shapeColumns(shape: ClientShape) {
  return {
    name: shape.name,
    redirect_uris: JSON.stringify(shape.redirectUris),
    post_logout_redirect_uris: JSON.stringify(shape.postLogoutRedirectUris),
    grant_types: JSON.stringify(shape.grantTypes),
    token_endpoint_auth_method: shape.tokenEndpointAuthMethod,
    backchannel_logout_uri: shape.backchannelLogoutUri,
    client_uri: shape.clientUri,
    initiate_login_uri: shape.initiateLoginUri,
    jwks: JSON.stringify(shape.jwks),
    dpop_bound_access_tokens: shape.dpopBoundAccessTokens,
    resources: JSON.stringify(shape.resources),
    id_token_signed_response_alg: shape.idTokenSignedResponseAlg,
    refresh_token_reuse_grace_seconds: shape.refreshTokenReuseGraceSeconds,
    require_mfa: shape.requireMfa,
    first_party: shape.firstParty,
  };
}

const usesSecret = (method: string) => method === 'client_secret_basic' || method === 'client_secret_post';

function sealContext(poolId: string, clientId: string): string {
  return `client-secret:${poolId}:${clientId}`;
}

function checkShape(shape: ClientShape, outgoing: ClientServiceDeps['outgoing']): void {
  const errors: FieldError[] = [];
  const unreachable = shape.backchannelLogoutUri ? outgoing.refusalForUrl(shape.backchannelLogoutUri) : undefined;
  if (unreachable) errors.push(fieldError('backchannelLogoutUri', `Tarn may not send requests there: ${unreachable}.`));
  const grants = new Set(shape.grantTypes);
  if (grants.has('authorization_code') && shape.redirectUris.length === 0) {
    errors.push(fieldError('redirectUris', 'At least one redirect URI is needed for the authorization_code grant.'));
  }
  if (grants.has('refresh_token') && !grants.has('authorization_code') && !grants.has(DEVICE_CODE_GRANT)) {
    errors.push(fieldError('grantTypes', 'refresh_token needs the authorization_code or the device_code grant.'));
  }
  if (shape.tokenEndpointAuthMethod === 'none' && grants.has('client_credentials')) {
    errors.push(fieldError('grantTypes', 'A public client (tokenEndpointAuthMethod "none") cannot use client_credentials.'));
  }
  if (shape.tokenEndpointAuthMethod === 'private_key_jwt' && !shape.jwks) {
    errors.push(fieldError('jwks', "private_key_jwt needs the client's public keys (jwks)."));
  }
  const seen = new Set<string>();
  shape.resources.forEach((resource, index) => {
    if (seen.has(resource.uri)) errors.push(fieldError(`resources.${index}.uri`, 'This resource is listed twice.'));
    seen.add(resource.uri);
  });
  if (errors.length) throw problems.validation(errors);
}

export function toOidcMetadata(row: ClientRow, secret: string | undefined): OidcClientMetadata {
  const grants = row.grant_types;
  return {
    client_id: row.client_id,
    client_name: row.name,
    ...(secret ? { client_secret: secret } : {}),
    redirect_uris: row.redirect_uris,
    post_logout_redirect_uris: row.post_logout_redirect_uris,
    grant_types: grants,
    response_types: grants.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: row.token_endpoint_auth_method,
    ...(row.backchannel_logout_uri ? { backchannel_logout_uri: row.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    ...(row.client_uri ? { client_uri: row.client_uri } : {}),
    ...(row.initiate_login_uri ? { initiate_login_uri: row.initiate_login_uri } : {}),
    ...(row.jwks ? { jwks: row.jwks } : {}),
    // OIDC Core §2: auth_time in every ID token, whether or not max_age was asked for.
    require_auth_time: true,
    // RFC 9449 §5.2
    dpop_bound_access_tokens: row.dpop_bound_access_tokens ?? false,
    id_token_signed_response_alg: row.id_token_signed_response_alg ?? 'RS256',
    [RESOURCES_METADATA]: row.resources ?? [],
    [REFRESH_GRACE_METADATA]: row.refresh_token_reuse_grace_seconds ?? 0,
    [REQUIRE_MFA_METADATA]: row.require_mfa ?? false,
    [FIRST_PARTY_METADATA]: row.first_party ?? false,
  };
}

export function toClientResponse(row: ClientRow) {
  return {
    clientId: row.client_id,
    name: row.name,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    grantTypes: row.grant_types,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    backchannelLogoutUri: row.backchannel_logout_uri,
    clientUri: row.client_uri ?? null,
    initiateLoginUri: row.initiate_login_uri ?? null,
    jwks: row.jwks as { keys: PublicJwk[] } | null,
    dpopBoundAccessTokens: row.dpop_bound_access_tokens,
    resources: row.resources,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg ?? 'RS256',
    refreshTokenReuseGraceSeconds: row.refresh_token_reuse_grace_seconds ?? 0,
    requireMfa: row.require_mfa ?? false,
    firstParty: row.first_party ?? false,
    hasSecret: row.secret_enc !== null,
    secretRotatedAt: row.secret_rotated_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createClientService({ db, envelope, listener, checkMetadata, outgoing }: ClientServiceDeps) {
  async function getClientRow(poolId: string, clientId: string): Promise<ClientRow> {
    const row = await createClientQueries(db, poolId).findClient(clientId);
    if (!row) throw problems.notFound('Client');
    return row;
  }

  async function checkWithProvider(poolId: string, clientId: string, shape: ClientShape, secret: string | undefined) {
    const draft = toOidcMetadata(
      {
        client_id: clientId,
        name: shape.name,
        redirect_uris: shape.redirectUris,
        post_logout_redirect_uris: shape.postLogoutRedirectUris,
        grant_types: shape.grantTypes,
        token_endpoint_auth_method: shape.tokenEndpointAuthMethod,
        backchannel_logout_uri: shape.backchannelLogoutUri,
        client_uri: shape.clientUri,
        initiate_login_uri: shape.initiateLoginUri,
        jwks: shape.jwks,
        dpop_bound_access_tokens: shape.dpopBoundAccessTokens,
        resources: shape.resources,
        id_token_signed_response_alg: shape.idTokenSignedResponseAlg,
        refresh_token_reuse_grace_seconds: shape.refreshTokenReuseGraceSeconds,
        require_mfa: shape.requireMfa,
        first_party: shape.firstParty,
      } as ClientRow,
      secret ?? (usesSecret(shape.tokenEndpointAuthMethod) ? 'x'.repeat(43) : undefined),
    );
    const problem = await checkMetadata(poolId, draft);
    if (problem) throw problems.validation([], `The client metadata is not valid: ${problem}`);
  }

  /**
   * A change to a client, the pool's new version (the other instances reload it) and the
   * change's event in one transaction (ADR 0809); this instance reloads after the commit.
   */
  async function change<T>(
    poolId: string,
    record: RecordChange | undefined,
    work: (executor: Db) => Promise<T>,
    describe?: (result: T) => ChangeEvent[],
  ): Promise<T> {
    const result = await changeWithEvents(
      db,
      record,
      async (executor) => {
        const done = await work(executor);
        await createPoolQueries(executor).bumpPoolVersion(poolId);
        return done;
      },
      describe,
    );
    listener.poolChanged(poolId);
    return result;
  }

  return {
    getClientRow,

    async createClient(poolId: string, input: CreateClientInput, record?: RecordChange) {
      const shape: ClientShape = {
        name: input.name,
        redirectUris: input.redirectUris ?? [],
        postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
        grantTypes: input.grantTypes ?? ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_basic',
        backchannelLogoutUri: input.backchannelLogoutUri ?? null,
        clientUri: input.clientUri ?? null,
        initiateLoginUri: input.initiateLoginUri ?? null,
        jwks: input.jwks ?? null,
        dpopBoundAccessTokens: input.dpopBoundAccessTokens ?? false,
        resources: input.resources ?? [],
        idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? 'RS256',
        refreshTokenReuseGraceSeconds: input.refreshTokenReuseGraceSeconds ?? 0,
        requireMfa: input.requireMfa ?? false,
        firstParty: input.firstParty ?? false,
      };
      checkShape(shape, outgoing);
      if (input.clientSecret !== undefined && !usesSecret(shape.tokenEndpointAuthMethod)) {
        throw problems.validation([fieldError('clientSecret', `A client using ${shape.tokenEndpointAuthMethod} has no secret.`)]);
      }
      if (input.clientId !== undefined && isReservedClientId(input.clientId)) {
        throw problems.validation([fieldError('clientId', `Client ids starting with "${BUILT_IN_CLIENT_PREFIX}" are reserved for Tarn's own applications.`)]);
      }
      const clientId = input.clientId ?? randomBytes(16).toString('base64url');
      const secret = usesSecret(shape.tokenEndpointAuthMethod) ? (input.clientSecret ?? generateSecret('tcs')) : undefined;
      await checkWithProvider(poolId, clientId, shape, secret);
      const row = await change(
        poolId,
        record,
        (executor) =>
          createClientQueries(executor, poolId).insertClient({
            client_id: clientId,
            ...shapeColumns(shape),
            secret_enc: secret ? envelope.seal(secret, sealContext(poolId, clientId)) : null,
          }),
        () => [{ target: { type: 'client', id: clientId } }],
      ).catch((error: unknown) => {
        if (isUniqueViolation(error)) throw problems.conflict('A client with this id already exists in the pool.', [fieldError('clientId', 'Already in use.')]);
        throw error;
      });
      return { ...toClientResponse(row), ...(secret ? { secret: showSecret(secret, { createdAt: row.created_at }) } : {}) };
    },

    async getClient(poolId: string, clientId: string) {
      return toClientResponse(await getClientRow(poolId, clientId));
    },

    async listClients(poolId: string, page: PageQuery) {
      const rows = await createClientQueries(db, poolId).listClients(page.limit + 1, page.cursor);
      return toPage(rows, page.limit, (row) => row.client_id, toClientResponse);
    },

    async updateClient(poolId: string, clientId: string, input: UpdateClientInput, record?: RecordChange) {
      const current = await getClientRow(poolId, clientId);
      const shape: ClientShape = {
        name: input.name ?? current.name,
        redirectUris: input.redirectUris ?? current.redirect_uris,
        postLogoutRedirectUris: input.postLogoutRedirectUris ?? current.post_logout_redirect_uris,
        grantTypes: input.grantTypes ?? current.grant_types,
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? current.token_endpoint_auth_method,
        backchannelLogoutUri: input.backchannelLogoutUri !== undefined ? input.backchannelLogoutUri : current.backchannel_logout_uri,
        clientUri: input.clientUri !== undefined ? input.clientUri : (current.client_uri ?? null),
        initiateLoginUri: input.initiateLoginUri !== undefined ? input.initiateLoginUri : (current.initiate_login_uri ?? null),
        jwks: input.jwks !== undefined ? input.jwks : current.jwks,
        dpopBoundAccessTokens: input.dpopBoundAccessTokens ?? current.dpop_bound_access_tokens,
        resources: input.resources ?? current.resources,
        idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? current.id_token_signed_response_alg ?? 'RS256',
        refreshTokenReuseGraceSeconds: input.refreshTokenReuseGraceSeconds ?? current.refresh_token_reuse_grace_seconds ?? 0,
        requireMfa: input.requireMfa ?? current.require_mfa ?? false,
        firstParty: input.firstParty ?? current.first_party ?? false,
      };
      checkShape(shape, outgoing);
      // Moving to a secret-based method without a secret issues one (returned once);
      // moving away from one drops it.
      const needsSecret = usesSecret(shape.tokenEndpointAuthMethod);
      const newSecret = needsSecret && current.secret_enc === null ? generateSecret('tcs') : undefined;
      await checkWithProvider(poolId, clientId, shape, newSecret);
      const columns: ClientChange = {
        ...shapeColumns(shape),
        ...(needsSecret ? {} : { secret_enc: null }),
        ...(newSecret ? { secret_enc: envelope.seal(newSecret, sealContext(poolId, clientId)), secret_rotated_at: new Date() } : {}),
      };
      const row = await change(poolId, record, async (executor) => {
        const updated = await createClientQueries(executor, poolId).updateClient(clientId, columns);
        if (!updated) throw problems.notFound('Client');
        return updated;
      });
      return { ...toClientResponse(row), ...(newSecret ? { secret: showSecret(newSecret, { createdAt: row.secret_rotated_at ?? row.updated_at }) } : {}) };
    },

    /** A new secret replaces the old one at once; the response is the only time it is shown. */
    async rotateClientSecret(poolId: string, clientId: string, record?: RecordChange) {
      const current = await getClientRow(poolId, clientId);
      if (!usesSecret(current.token_endpoint_auth_method)) {
        throw problems.conflict(`A client using ${current.token_endpoint_auth_method} has no secret to rotate.`);
      }
      const secret = generateSecret('tcs');
      const row = await change(poolId, record, async (executor) => {
        const updated = await createClientQueries(executor, poolId).updateClient(clientId, {
          secret_enc: envelope.seal(secret, sealContext(poolId, clientId)),
          secret_rotated_at: new Date(),
        });
        if (!updated) throw problems.notFound('Client');
        return updated;
      });
      return { ...toClientResponse(row), secret: showSecret(secret, { createdAt: row.secret_rotated_at ?? row.updated_at }) };
    },

    async deleteClient(poolId: string, clientId: string, record?: RecordChange): Promise<void> {
      await change(poolId, record, async (executor) => {
        if (!(await createClientQueries(executor, poolId).deleteClient(clientId))) throw problems.notFound('Client');
      });
    },

    /** The client as the pool's provider loads it, secret decrypted; undefined when unknown. */
    async findOidcMetadata(poolId: string, clientId: string): Promise<OidcClientMetadata | undefined> {
      const row = await createClientQueries(db, poolId).findClient(clientId);
      if (!row) return undefined;
      const secret = row.secret_enc ? envelope.open(row.secret_enc, sealContext(poolId, clientId)) : undefined;
      return toOidcMetadata(row, secret);
    },
  };
}

export type ClientService = ReturnType<typeof createClientService>;
