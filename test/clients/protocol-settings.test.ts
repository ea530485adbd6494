/**
 * Applications configured for the whole protocol through the admin API: grant types
 * (device grant included), authentication methods, back-channel logout URI, DPoP-bound
 * tokens, JWKS for private_key_jwt, resource servers. Bad input is a problem document
 * naming the field; what is accepted is what the pool's provider then enforces.
 */
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { createClient, createPool, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

function fieldsOf(body: { errors?: { field: string }[] }): string[] {
  return (body.errors ?? []).map((error) => error.field);
}

describe('application protocol settings (admin API)', () => {
  it('creates a device-grant client without redirect URIs and shows every protocol setting', async () => {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/clients`, {
      name: 'TV',
      grantTypes: [DEVICE_GRANT, 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      dpopBoundAccessTokens: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      grantTypes: [DEVICE_GRANT, 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      dpopBoundAccessTokens: true,
      resources: [],
      backchannelLogoutUri: null,
      redirectUris: [],
    });
    const fetched = await tarn.admin('GET', `/pools/${pool.id}/clients/${created.body.clientId}`);
    expect(fetched.body.dpopBoundAccessTokens).toBe(true);
  });

  it('stores back-channel logout URI, resources and JWKS, and changes them with PATCH', async () => {
    const pool = await createPool(tarn);
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const created = await tarn.admin('POST', `/pools/${pool.id}/clients`, {
      name: 'API client',
      redirectUris: [REDIRECT_URI],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [jwk] },
      backchannelLogoutUri: 'https://rp.example.test/bcl',
      resources: [{ uri: 'https://api.example.test', scopes: ['read', 'write'] }],
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBeUndefined();
    expect(created.body.resources).toEqual([{ uri: 'https://api.example.test', scopes: ['read', 'write'] }]);
    const patched = await tarn.admin('PATCH', `/pools/${pool.id}/clients/${created.body.clientId}`, {
      resources: [],
      backchannelLogoutUri: null,
      dpopBoundAccessTokens: true,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ resources: [], backchannelLogoutUri: null, dpopBoundAccessTokens: true, jwks: { keys: [jwk] } });
  });

  it('refuses inconsistent settings with a problem document naming the field', async () => {
    const pool = await createPool(tarn);
    const cases: [Record<string, unknown>, string][] = [
      [{ grantTypes: ['implicit'] }, 'grantTypes.0'],
      [{ grantTypes: ['client_credentials', 'refresh_token'] }, 'grantTypes'],
      [{ tokenEndpointAuthMethod: 'none', grantTypes: ['client_credentials'] }, 'grantTypes'],
      [{ tokenEndpointAuthMethod: 'private_key_jwt' }, 'jwks'],
      [{ tokenEndpointAuthMethod: 'client_secret_jwt' }, 'tokenEndpointAuthMethod'],
      [{ backchannelLogoutUri: 'not a uri' }, 'backchannelLogoutUri'],
      [{ dpopBoundAccessTokens: 'yes' }, 'dpopBoundAccessTokens'],
      [{ resources: [{ uri: 'https://api.example.test#frag', scopes: [] }] }, 'resources.0.uri'],
      [{ resources: [{ uri: 'https://api.example.test', scopes: ['has space'] }] }, 'resources.0.scopes.0'],
      [
        {
          resources: [
            { uri: 'https://a.example.test', scopes: [] },
            { uri: 'https://a.example.test', scopes: [] },
          ],
        },
        'resources.1.uri',
      ],
      [{ resources: [{ uri: 'https://a.example.test', scopes: [], extra: 1 }] }, 'resources.0.extra'],
      [{ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwks.keys.0'],
      [{ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ crv: 'P-256', x: 'eA', y: 'eQ' }] } }, 'jwks.keys.0'],
    ];
    for (const [fields, field] of cases) {
      const response = await tarn.admin('POST', `/pools/${pool.id}/clients`, { name: 'Bad', redirectUris: [REDIRECT_URI], ...fields });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(fieldsOf(response.body)).toContain(field);
    }
  });

  it('refuses a JWKS the provider cannot use, as a 400 problem, never a 500', async () => {
    const pool = await createPool(tarn);
    const response = await tarn.admin('POST', `/pools/${pool.id}/clients`, {
      name: 'Bad keys',
      redirectUris: [REDIRECT_URI],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [{ kty: 'RSA', n: 'not-a-modulus' }] },
    });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/JSON Web Key Set is invalid/);
  });

  it("a change reaches the pool's provider at once: turning on dpopBoundAccessTokens makes Bearer tokens impossible", async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    expect((await oidc.clientCredentialsGrant(config)).token_type.toLowerCase()).toBe('bearer');
    await tarn.admin('PATCH', `/pools/${pool.id}/clients/${app.clientId}`, { dpopBoundAccessTokens: true });
    await expect(oidc.clientCredentialsGrant(config)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it("cross-pool: another pool's application is not found", async () => {
    const a = await createPool(tarn);
    const b = await createPool(tarn);
    const app = await createClient(tarn, a.id, { grantTypes: [DEVICE_GRANT], redirectUris: [], tokenEndpointAuthMethod: 'none' });
    expect((await tarn.admin('GET', `/pools/${b.id}/clients/${app.clientId}`)).status).toBe(404);
    expect((await tarn.admin('PATCH', `/pools/${b.id}/clients/${app.clientId}`, { dpopBoundAccessTokens: true })).status).toBe(404);
    // …and unknown to pool B's provider.
    const device = await fetch(`${b.issuer}/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.clientId }),
    });
    expect((await device.json()).error).toBe('invalid_client');
  });
});
