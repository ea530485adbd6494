/**
 * Tarn's built-in first-party clients (src/oidc/built-in-clients.ts): what a pool's provider is
 * given for them, and the ids an administrator cannot take.
 */
import { ACCOUNT_CLIENT, builtInClientMetadata, isBuiltInClient, isReservedClientId } from '../../src/oidc/built-in-clients.js';

const place = { poolId: 'acme', issuer: 'https://id.example/pools/acme', publicUrl: 'https://id.example' };

it("the account page's client is a public, code-only client redirecting under the pool's issuer", () => {
  expect(builtInClientMetadata(place, ACCOUNT_CLIENT.clientId)).toEqual({
    client_id: 'tarn:account',
    client_name: 'Your account',
    redirect_uris: ['https://id.example/pools/acme/account/callback'],
    post_logout_redirect_uris: ['https://id.example/pools/acme/account/signed-out'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    require_auth_time: true,
    id_token_signed_response_alg: 'RS256',
  });
});

it('other ids are not built in, and the tarn: prefix is reserved', () => {
  expect(builtInClientMetadata(place, 'tarn:nothing')).toBeUndefined();
  expect(builtInClientMetadata(place, 'my-app')).toBeUndefined();
  expect(isBuiltInClient('tarn:account')).toBe(true);
  expect(isBuiltInClient('my-app')).toBe(false);
  expect(isReservedClientId('tarn:console')).toBe(true);
  expect(isReservedClientId('tarnished')).toBe(false);
});
