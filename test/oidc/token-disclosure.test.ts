/**
 * Introspection (RFC 7662) and revocation (RFC 7009) between two confidential clients of
 * one pool: only the client a token was issued to learns that it is active, or revokes it.
 * Another client is answered as for an unknown token: `{ "active": false }`, and an empty
 * 200 that revokes nothing. Tokens meant for a resource server are JWTs, which neither
 * endpoint discloses to anyone (the API verifies them with the pool's JWKS).
 */
import * as oidc from 'openid-client';
import { createClient } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { setupPool, postForm } from '../support/protocol.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

/** A pool with the victim's application (A, with a signed-in user) and another confidential application (B). */
async function twoClients(clientFields: Record<string, unknown> = {}) {
  const a = await setupPool(tarn, clientFields);
  const other = await createClient(tarn, a.pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
  const b = await discover(a.pool.issuer, other.clientId, other.secret?.value);
  return { ...a, b, other };
}

describe('introspection (RFC 7662 §2.1: the server decides who may ask)', () => {
  it('tells the client a token was issued to that it is active, and every other client of the pool that it is not', async () => {
    const { config, user, app, b } = await twoClients({ grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const { tokens } = await signIn(config, tarn.url, user);
    const serviceToken = await oidc.clientCredentialsGrant(config);

    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, client_id: app.clientId, sub: user.id });
    expect(await oidc.tokenIntrospection(config, tokens.refresh_token!)).toMatchObject({ active: true, client_id: app.clientId });

    expect(await oidc.tokenIntrospection(b, tokens.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(b, tokens.refresh_token!, { token_type_hint: 'refresh_token' })).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(b, serviceToken.access_token)).toEqual({ active: false });
    // The same answer as for a token that never existed: B cannot tell the two apart.
    expect(await oidc.tokenIntrospection(b, 'never-issued-token-value-0123456789abcdef')).toEqual({ active: false });
  });

  it("discloses a resource server's JWT access token to no client: the API verifies it with the JWKS", async () => {
    const api = 'https://api.example.test/orders';
    const { config, b } = await twoClients({ grantTypes: ['client_credentials'], redirectUris: [], resources: [{ uri: api, scopes: ['orders:read'] }] });
    const jwt = await oidc.clientCredentialsGrant(config, { resource: api, scope: 'orders:read' });
    for (const caller of [config, b]) {
      await expect(oidc.tokenIntrospection(caller, jwt.access_token)).rejects.toMatchObject({ error: 'unsupported_token_type' });
    }
  });
});

describe('revocation (RFC 7009 §2.1: only the client the token was issued to)', () => {
  it('answers another client 200 as for an unknown token and revokes nothing', async () => {
    const { config, user, b, other, pool } = await twoClients();
    const { tokens } = await signIn(config, tarn.url, user);

    const attempt = await postForm(
      `${pool.issuer}/token/revocation`,
      { token: tokens.refresh_token!, token_type_hint: 'refresh_token' },
      { clientId: other.clientId, clientSecret: other.secret!.value },
    );
    expect(attempt.status).toBe(200);
    await oidc.tokenRevocation(b, tokens.access_token);
    // Same answer for a token that never existed.
    const unknown = await postForm(
      `${pool.issuer}/token/revocation`,
      { token: 'never-issued-token-value-0123456789abcdef' },
      { clientId: other.clientId, clientSecret: other.secret!.value },
    );
    expect([unknown.status, unknown.text]).toEqual([attempt.status, attempt.text]);

    // Both tokens still work for their own client.
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeDefined();

    // The client the token was issued to revokes it.
    await oidc.tokenRevocation(config, refreshed.access_token);
    expect(await oidc.tokenIntrospection(config, refreshed.access_token)).toEqual({ active: false });
  });
});
