/**
 * Who learns about a token at the introspection and revocation endpoints. oidc-provider's
 * defaults let any confidential client of the pool introspect every other client's tokens
 * (and print a notice saying so). Tarn's rule, for both endpoints:
 * - only the client the token was issued to learns that it is active, or revokes it
 *   (RFC 7009 §2.1: the server "verifies whether the token was issued to the client
 *   making the revocation request");
 * - any other client is answered exactly as for an unknown token: `{ "active": false }`
 *   (RFC 7662 §2.2) and an empty 200 without revoking anything (RFC 7009 §2.2), so that
 *   neither endpoint tells it whether someone else's token exists.
 * Tokens meant for a resource server are RFC 9068 JWTs (resource-servers.ts), which the
 * resource server verifies with the pool's JWKS; oidc-provider introspects and revokes
 * opaque tokens only. docs/adr/0603-token-introspection-and-revocation-policy.md.
 */
import type { AccessToken, Client, ClientCredentials, KoaContextWithOIDC, RefreshToken } from 'oidc-provider';

type Introspectable = AccessToken | ClientCredentials | RefreshToken;

function issuedTo(client: Client, token: Introspectable): boolean {
  return token.clientId === client.clientId;
}

/** features.introspection.allowedPolicy: false answers `{ "active": false }`. */
export async function mayIntrospect(_ctx: KoaContextWithOIDC, client: Client, token: Introspectable): Promise<boolean> {
  return issuedTo(client, token);
}

/** features.revocation.allowedPolicy: false answers 200 and revokes nothing. */
export async function mayRevoke(_ctx: KoaContextWithOIDC, client: Client, token: Introspectable): Promise<boolean> {
  return issuedTo(client, token);
}
