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
 */
import type { OidcClientMetadata } from '../clients/clients.service.js';

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
}

/** Ids starting with this are Tarn's own; the admin API refuses them for new clients. */
export const BUILT_IN_CLIENT_PREFIX = 'tarn:';

export const ACCOUNT_CLIENT: BuiltInClient = {
  clientId: `${BUILT_IN_CLIENT_PREFIX}account`,
  name: 'Your account',
  redirectUris: ['{issuer}/account/callback'],
  postLogoutRedirectUris: ['{issuer}/account/signed-out'],
};

export const BUILT_IN_CLIENTS: readonly BuiltInClient[] = [ACCOUNT_CLIENT];

const byId = new Map(BUILT_IN_CLIENTS.map((client) => [client.clientId, client]));

export function isReservedClientId(clientId: string): boolean {
  return clientId.startsWith(BUILT_IN_CLIENT_PREFIX);
}

export function isBuiltInClient(clientId: string | undefined): boolean {
  return clientId !== undefined && byId.has(clientId);
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
  };
}
