/**
 * oidc-provider's `loadExistingGrant` (docs/adr/0401). By default a grant is found only
 * through the browser session, so every new browser asks for consent again. Here:
 * 1. the session's grant, as before;
 * 2. else the grant this user last gave this application (consent_grants), when it still
 *    exists and is theirs: scopes already granted are not asked again in a new browser;
 * 3. a first-party application gets every scope and claim it asks for added to the grant,
 *    so the consent page never shows; the grant is remembered as implicit.
 * A grant that a consent page has just completed is remembered for the user and client.
 * Revoking or expiring the grant (Grant TTL) brings the consent page back.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/database.js';
import { FIRST_PARTY_METADATA } from '../clients/clients.service.js';
import { createConsentGrantQueries } from './consent-grants.queries.js';

type Grant = InstanceType<KoaContextWithOIDC['oidc']['provider']['Grant']>;

export function createLoadExistingGrant(db: Db, poolId: string) {
  const remembered = createConsentGrantQueries(db, poolId);

  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { oidc } = ctx;
    const client = oidc.client!;
    const accountId = oidc.session!.accountId!;
    const fromSession = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
    let grant: Grant | undefined = fromSession ? await oidc.provider.Grant.find(fromSession) : undefined;
    if (grant && oidc.result?.consent) {
      // The user has just allowed access on the consent page.
      await remembered.rememberGrant(accountId, client.clientId, grant.jti, false);
    }
    if (!grant) {
      const grantId = await remembered.findGrantId(accountId, client.clientId);
      const found = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (found && found.accountId === accountId && found.clientId === client.clientId) grant = found;
    }
    const firstParty = (client as unknown as Record<string, unknown>)[FIRST_PARTY_METADATA] === true;
    if (!firstParty) return grant;

    const isNew = !grant;
    grant ??= new oidc.provider.Grant({ accountId, clientId: client.clientId });
    const before = JSON.stringify([grant.openid, grant.resources]);
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    const asked = oidc.requestParamScopes;
    for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
      const scopes = String((server as { scope?: string }).scope ?? '')
        .split(' ')
        .filter((scope) => scope && asked.has(scope));
      if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
    }
    // (Saved only when it changed: a returning user's sign-in writes nothing more.)
    if (!isNew && JSON.stringify([grant.openid, grant.resources]) === before) return grant;
    await grant.save();
    await remembered.rememberGrant(accountId, client.clientId, grant.jti, true);
    return grant;
  };
}
