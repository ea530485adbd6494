/**
 * OIDC Registration §2 id_token_signed_response_alg through the admin API: discovery offers
 * RS256 and ES256 for ID tokens, and each application chooses (RS256 by default).
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { setupPool } from '../support/protocol.js';
import { signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

it("an application that chooses ES256 gets ES256 ID tokens that verify with the pool's JWKS; RS256 stays the default", async () => {
  const setup = await setupPool(tarn, { idTokenSignedResponseAlg: 'ES256' });
  const shown = await tarn.admin('GET', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`);
  expect(shown.body.idTokenSignedResponseAlg).toBe('ES256');
  const { tokens } = await signIn(setup.config, tarn.url, setup.user);
  expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
  const jwks = createRemoteJWKSet(new URL(`${setup.pool.issuer}/jwks`));
  await expect(jwtVerify(tokens.id_token!, jwks, { issuer: setup.pool.issuer, audience: setup.app.clientId })).resolves.toBeDefined();

  // Switching back: the next sign-in gets RS256.
  const patched = await tarn.admin('PATCH', `/pools/${setup.pool.id}/clients/${setup.app.clientId}`, { idTokenSignedResponseAlg: 'RS256' });
  expect(patched.body.idTokenSignedResponseAlg).toBe('RS256');
  const again = await signIn(setup.config, tarn.url, setup.user);
  expect(decodeProtectedHeader(again.tokens.id_token!).alg).toBe('RS256');

  const plain = await setupPool(tarn);
  expect((await tarn.admin('GET', `/pools/${plain.pool.id}/clients/${plain.app.clientId}`)).body.idTokenSignedResponseAlg).toBe('RS256');
});

it('an algorithm the pool has no key for is a 400 naming the field', async () => {
  const setup = await setupPool(tarn);
  const refused = await tarn.admin('POST', `/pools/${setup.pool.id}/clients`, {
    name: 'HS',
    redirectUris: ['http://rp.example.test/cb'],
    idTokenSignedResponseAlg: 'HS256',
  });
  expect(refused.status).toBe(400);
  expect(refused.headers.get('content-type')).toContain('application/problem+json');
  expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'idTokenSignedResponseAlg' })]);
});
