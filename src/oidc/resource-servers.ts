/**
 * Resource indicators (RFC 8707) of a pool: a client may ask for an access token for a
 * resource server only when that resource is on the client's own list (admin API
 * `resources`), and only for the scopes listed there (docs/adr/0600-resource-servers.md).
 * Such tokens are JWTs per RFC 9068 (`typ: at+jwt`, `aud` = the resource), signed with
 * the pool's current RS256 key, so the resource server verifies them with the pool's JWKS.
 * Anything else is `invalid_target` (RFC 8707 §2).
 */
import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { RESOURCES_METADATA } from '../clients/clients.service.js';
import type { ClientResource } from '../db/tables.js';

export function resourcesOf(client: Client): ClientResource[] {
  const value = (client as unknown as Record<string, unknown>)[RESOURCES_METADATA];
  return Array.isArray(value) ? (value as ClientResource[]) : [];
}

export function createResourceServerInfo(accessTokenTTL: number) {
  return async function getResourceServerInfo(_ctx: KoaContextWithOIDC, indicator: string, client: Client): Promise<ResourceServer> {
    const allowed = resourcesOf(client).find((resource) => resource.uri === indicator);
    if (!allowed) throw new errors.InvalidTarget('the resource is not registered for this client');
    return {
      audience: indicator,
      scope: allowed.scopes.join(' '),
      accessTokenFormat: 'jwt',
      accessTokenTTL,
      jwt: { sign: { alg: 'RS256' } },
    };
  };
}
