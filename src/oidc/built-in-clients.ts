/**
 * Built-in first-party clients: applications Tarn itself runs as relying parties of a pool
 * (the hosted account page, docs/adr/0306). They exist in every pool's provider configuration
 * without a row in the clients table, so the admin API neither lists nor changes them, and an
 * administrator cannot create a client with their ids (the `tarn:` prefix is reserved).
 * Being first-party, they get their grant without a consent page (provider-config.ts).
 *
 * A built-in client is one entry of BUILT_IN_CLIENTS: its id, its name on the sign-in page, and
 * the paths under the pool's issuer that the provider may redirect to. Each is a public client
 * (no secret, PKCE S256 required) using the code flow only, and its ID tokens always carry
 * auth_time, which the client needs for re-authentication before sensitive actions (max_age).
 */
import type { OidcClientMetadata } from '../clients/clients.service.js';

export interface BuiltInClient {
  clientId: string;
  /** Shown on the sign-in page ("Sign in to continue to …"). */
  name: string;
  /** Redirect URIs, as paths under the pool's issuer (`/pools/{pool}`). */
  redirectPaths: string[];
  /** Where RP-initiated logout may return to, as paths under the issuer. */
  postLogoutPaths: string[];
}

/** Ids starting with this are Tarn's own; the admin API refuses them for new clients. */
export const BUILT_IN_CLIENT_PREFIX = 'tarn:';

export const ACCOUNT_CLIENT: BuiltInClient = {
  clientId: `${BUILT_IN_CLIENT_PREFIX}account`,
  name: 'Your account',
  redirectPaths: ['/account/callback'],
  postLogoutPaths: ['/account/signed-out'],
};

export const BUILT_IN_CLIENTS: readonly BuiltInClient[] = [ACCOUNT_CLIENT];

const byId = new Map(BUILT_IN_CLIENTS.map((client) => [client.clientId, client]));

export function isReservedClientId(clientId: string): boolean {
  return clientId.startsWith(BUILT_IN_CLIENT_PREFIX);
}

export function isBuiltInClient(clientId: string | undefined): boolean {
  return clientId !== undefined && byId.has(clientId);
}

/** The provider metadata of a built-in client at the pool whose issuer is given, or undefined for any other id. */
export function builtInClientMetadata(issuer: string, clientId: string): OidcClientMetadata | undefined {
  const client = byId.get(clientId);
  if (!client) return undefined;
  return {
    client_id: client.clientId,
    client_name: client.name,
    redirect_uris: client.redirectPaths.map((path) => `${issuer}${path}`),
    post_logout_redirect_uris: client.postLogoutPaths.map((path) => `${issuer}${path}`),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    require_auth_time: true,
    id_token_signed_response_alg: 'RS256',
  };
}
