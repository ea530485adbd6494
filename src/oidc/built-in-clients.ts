/**
 * Built-in first-party clients: applications Tarn itself runs as relying parties of a pool
 * (the hosted account page, docs/adr/0306). They exist in every pool's provider configuration
 * without a row in the clients table, so the admin API neither lists nor changes them, and an
 * administrator cannot create a client with their ids (the `tarn:` prefix is reserved).
 * Being first-party, they get their grant without a consent page (provider-config.ts).
 *
 * A built-in client is one entry of BUILT_IN_CLIENTS: its id, its name on the sign-in page, the
 * URIs the provider may redirect to (templates: `{issuer}` is the pool's issuer, `{publicUrl}`
 * Tarn's public URL), and optionally which pools have it (default: every pool). Each is a public client
 * (no secret, PKCE S256 required) using the code flow only, and its ID tokens always carry
 * auth_time, which the client needs for re-authentication before sensitive actions (max_age).
 * The console (ADR 1000) is one too: a client of the admin pool only, whose access tokens are
 * for the admin API (an RFC 8707 resource).
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { RESOURCES_METADATA, type OidcClientMetadata } from '../clients/clients.service.js';

/** The admin pool's reserved id: an ordinary pool cannot take it (pools.schemas.ts). */
export const ADMIN_POOL_ID = 'tarn-admin';
/** The one scope of the admin API resource; the console asks for it. */
export const ADMIN_API_SCOPE = 'tarn:admin';

/** The audience of access tokens for the admin API (RFC 8707 resource indicator). */
export function adminApiAudience(publicUrl: string): string {
  return `${publicUrl}/admin`;
}

export interface BuiltInClient {
  clientId: string;
  /** Shown on the sign-in page ("Sign in to continue to …"). */
  name: string;
  /** Redirect URIs, as templates: `{issuer}/account/callback`, `{publicUrl}/…`. */
  redirectUris: string[];
  /** Where RP-initiated logout may return to, as templates like redirectUris. */
  postLogoutRedirectUris: string[];
  /** The pools whose provider has this client; every pool when absent. */
  inPool?: (poolId: string) => boolean;
  /** Resource servers it may get access tokens for (templates like redirectUris), with their scopes. */
  resources?: { uri: string; scopes: string[] }[];
}

/** Ids starting with this are Tarn's own; the admin API refuses them for new clients. */
export const BUILT_IN_CLIENT_PREFIX = 'tarn:';

export const ACCOUNT_CLIENT: BuiltInClient = {
  clientId: `${BUILT_IN_CLIENT_PREFIX}account`,
  name: 'Your account',
  redirectUris: ['{issuer}/account/callback'],
  postLogoutRedirectUris: ['{issuer}/account/signed-out'],
};

export const CONSOLE_CLIENT: BuiltInClient = {
  clientId: `${BUILT_IN_CLIENT_PREFIX}console`,
  name: 'Tarn console',
  redirectUris: ['{publicUrl}/console/callback'],
  postLogoutRedirectUris: ['{publicUrl}/console/signed-out'],
  inPool: (poolId) => poolId === ADMIN_POOL_ID,
  resources: [{ uri: '{publicUrl}/admin', scopes: [ADMIN_API_SCOPE] }],
};
export const CONSOLE_CLIENT_ID = CONSOLE_CLIENT.clientId;

export const BUILT_IN_CLIENTS: readonly BuiltInClient[] = [ACCOUNT_CLIENT, CONSOLE_CLIENT];

const byId = new Map(BUILT_IN_CLIENTS.map((client) => [client.clientId, client]));

export function isReservedClientId(clientId: string): boolean {
  return clientId.startsWith(BUILT_IN_CLIENT_PREFIX);
}

export function isBuiltInClient(clientId: string | undefined): boolean {
  return clientId !== undefined && byId.has(clientId);
}

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
    ...(client.resources && { [RESOURCES_METADATA]: client.resources.map((resource) => ({ uri: fill(resource.uri), scopes: resource.scopes })) }),
  };
}

/**
 * The grant of a built-in client (oidc-provider's loadExistingGrant): the session's, or one made
 * now of what it asked for, its resource indicators included. Being first-party, it never sees a
 * consent page, and having no row in the clients table, its consent is not remembered beyond the session.
 */
export async function builtInClientGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const clientId = oidc.client!.clientId;
  const session = oidc.session;
  if (!session) return undefined;
  const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  // (A grant revoked meanwhile, by a password change say, is made again.)
  if (existing || !session.accountId) return existing;
  const grant = new oidc.provider.Grant({ clientId, accountId: session.accountId });
  const scope = typeof oidc.params?.scope === 'string' ? oidc.params.scope : 'openid';
  grant.addOIDCScope(scope);
  const resource = oidc.params?.resource;
  for (const indicator of Array.isArray(resource) ? resource : typeof resource === 'string' ? [resource] : []) grant.addResourceScope(String(indicator), scope);
  await grant.save();
  session.grantIdFor(clientId, grant.jti);
  return grant;
}
