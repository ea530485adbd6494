/**
 * Built-in first-party clients: applications Tarn itself is, present in a pool's provider
 * configuration without a row in the clients table. They are not listed by the admin API,
 * cannot be changed or deleted through it, and their users are never asked for consent
 * (Tarn does not ask a person whether Tarn may act for them).
 * The console (ADR 1000) is one: a confidential client of the admin pool, whose secret is
 * derived from the master key, so nothing is stored and every instance agrees on it.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { hmac } from '../crypto/secrets.js';
import { RESOURCES_METADATA, REFRESH_GRACE_METADATA, type OidcClientMetadata } from '../clients/clients.service.js';

/** The admin pool's reserved id: an ordinary pool cannot take it (pools.schemas.ts). */
export const ADMIN_POOL_ID = 'tarn-admin';
export const CONSOLE_CLIENT_ID = 'tarn-console';
/** The one scope of the admin API resource; the console asks for it. */
export const ADMIN_API_SCOPE = 'tarn:admin';

export interface BuiltInClientSettings {
  publicUrl: string;
  /** Key the built-in clients' secrets are derived from (deriveKey(masterKey, 'built-in-clients')). */
  secretKey: Buffer;
}

/** The audience of access tokens for the admin API (RFC 8707 resource indicator). */
export function adminApiAudience(publicUrl: string): string {
  return `${publicUrl}/admin`;
}

export function builtInClientSecret(settings: BuiltInClientSettings, poolId: string, clientId: string): string {
  return hmac(settings.secretKey, `built-in-client:${poolId}:${clientId}`);
}

/** The built-in clients of a pool, as oidc-provider metadata. */
export function builtInClients(poolId: string, settings: BuiltInClientSettings): OidcClientMetadata[] {
  const clients: OidcClientMetadata[] = [];
  if (poolId === ADMIN_POOL_ID) {
    clients.push({
      client_id: CONSOLE_CLIENT_ID,
      client_name: 'Tarn console',
      client_secret: builtInClientSecret(settings, poolId, CONSOLE_CLIENT_ID),
      redirect_uris: [`${settings.publicUrl}/console/callback`],
      post_logout_redirect_uris: [`${settings.publicUrl}/console/signed-out`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      require_auth_time: true,
      id_token_signed_response_alg: 'RS256',
      [RESOURCES_METADATA]: [{ uri: adminApiAudience(settings.publicUrl), scopes: [ADMIN_API_SCOPE] }],
      [REFRESH_GRACE_METADATA]: 0,
    });
  }
  return clients;
}

/** Whether `clientId` names a built-in client of the pool (no settings needed). */
export function isBuiltInClientId(poolId: string, clientId: string): boolean {
  return poolId === ADMIN_POOL_ID && clientId === CONSOLE_CLIENT_ID;
}

export function findBuiltInClient(poolId: string, clientId: string, settings: BuiltInClientSettings): OidcClientMetadata | undefined {
  return builtInClients(poolId, settings).find((client) => client.client_id === clientId);
}

/**
 * oidc-provider's loadExistingGrant: the grant the session already holds, as by default; a
 * built-in client without one gets a grant of what it asked for (no consent page).
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
