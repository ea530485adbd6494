/**
 * Built-in first-party clients: applications Tarn itself runs as relying parties of a pool.
 * They exist in a pool's provider configuration without a row in the clients table, so the
 * admin API neither lists nor changes them, and no client can be created with their ids.
 * Being first-party, they get their grant without a consent page (createLoadExistingGrant).
 *
 * Each is a public client (no secret, PKCE S256 required) using the code flow only. An entry
 * names its id, its name on the sign-in page, its redirect URIs as templates (`{issuer}` the
 * pool's issuer, `{publicUrl}` Tarn's public URL), optionally the pools that have it and the
 * resource servers (RFC 8707) it may ask tokens for.
 * The console (ADR 1000) is one: a client of the admin pool only, whose access tokens are for
 * the admin API.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { RESOURCES_METADATA, type OidcClientMetadata } from '../clients/clients.service.js';

/** The admin pool's reserved id: an ordinary pool cannot take it (pools.schemas.ts). */
export const ADMIN_POOL_ID = 'tarn-admin';
/** The one scope of the admin API resource; the console asks for it. */
export const ADMIN_API_SCOPE = 'tarn:admin';

export interface BuiltInClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** The pools whose provider has this client; every pool when absent. */
  inPool?: (poolId: string) => boolean;
  /** Resource servers it may get access tokens for (templates like redirectUris), with their scopes. */
  resources?: { uri: string; scopes: string[] }[];
}

/** The audience of access tokens for the admin API (RFC 8707 resource indicator). */
export function adminApiAudience(publicUrl: string): string {
  return `${publicUrl}/admin`;
}

export const CONSOLE_CLIENT: BuiltInClient = {
  clientId: 'tarn:console',
  name: 'Tarn console',
  redirectUris: ['{publicUrl}/console/callback'],
  postLogoutRedirectUris: ['{publicUrl}/console/signed-out'],
  inPool: (poolId) => poolId === ADMIN_POOL_ID,
  resources: [{ uri: '{publicUrl}/admin', scopes: [ADMIN_API_SCOPE] }],
};
export const CONSOLE_CLIENT_ID = CONSOLE_CLIENT.clientId;

export const BUILT_IN_CLIENTS: readonly BuiltInClient[] = [CONSOLE_CLIENT];

const byId = new Map(BUILT_IN_CLIENTS.map((client) => [client.clientId, client]));

/** Whether `clientId` names a built-in client of the pool. */
export function isBuiltInClientId(poolId: string, clientId: string): boolean {
  const client = byId.get(clientId);
  return client !== undefined && (!client.inPool || client.inPool(poolId));
}

export interface BuiltInClientPlace {
  poolId: string;
  issuer: string;
  publicUrl: string;
}

/** The provider metadata of a built-in client at the given pool, or undefined for any other id (or a pool without it). */
export function builtInClientMetadata(place: BuiltInClientPlace, clientId: string): OidcClientMetadata | undefined {
  const client = byId.get(clientId);
  if (!client || (client.inPool && !client.inPool(place.poolId))) return undefined;
  const fill = (template: string) => template.replace('{issuer}', place.issuer).replace('{publicUrl}', place.publicUrl);
  return {
    client_id: client.clientId,
    client_name: client.name,
    redirect_uris: client.redirectUris.map(fill),
    post_logout_redirect_uris: client.postLogoutRedirectUris.map(fill),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    require_auth_time: true,
    id_token_signed_response_alg: 'RS256',
    [RESOURCES_METADATA]: (client.resources ?? []).map((resource) => ({ uri: fill(resource.uri), scopes: resource.scopes })),
  };
}

/**
 * oidc-provider's loadExistingGrant: the grant the session already holds, as by default; a
 * built-in client without one gets a grant of what it asked for, resources included (no consent page).
 */
export function createLoadExistingGrant(isBuiltIn: (clientId: string) => boolean) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { oidc } = ctx;
    const client = oidc.client;
    const session = oidc.session;
    if (!client || !session) return undefined;
    const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
    if (grantId) return oidc.provider.Grant.find(grantId);
    if (!isBuiltIn(client.clientId) || !session.accountId) return undefined;
    const grant = new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    const scope = typeof oidc.params?.scope === 'string' ? oidc.params.scope : 'openid';
    grant.addOIDCScope(scope);
    const resource = oidc.params?.resource;
    for (const indicator of Array.isArray(resource) ? resource : typeof resource === 'string' ? [resource] : [])
      grant.addResourceScope(String(indicator), scope);
    await grant.save();
    session.grantIdFor(client.clientId, grant.jti);
    return grant;
  };
}
