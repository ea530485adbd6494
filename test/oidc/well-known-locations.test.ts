/**
 * Where relying parties find a pool's metadata, and what it says about keys and endpoints:
 * - RFC 8414 §3: for an issuer with a path, the well-known string goes between the host and
 *   the path (/.well-known/oauth-authorization-server/pools/{id}); the OIDC-style location
 *   and the appended forms answer the same document, from the same cache (ADR 0702);
 * - RFC 8414 §2: the introspection and revocation endpoints' client authentication methods;
 * - RFC 7517 §4.3: published keys carry `use` and never `key_ops` as well.
 */
import * as oauth from 'oauth4webapi';
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function json(url: string): Promise<{ status: number; body: Record<string, any>; type: string | null }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, any> };
}

it('RFC 8414 §3: the metadata is served at the host root for every pool, the same document as the appended location', async () => {
  const pool = await createPool(tarn);
  const appended = await json(`${pool.issuer}/.well-known/openid-configuration`);
  expect(appended.status).toBe(200);
  for (const path of [
    `/.well-known/oauth-authorization-server/pools/${pool.id}`,
    `/.well-known/openid-configuration/pools/${pool.id}`,
    `/pools/${pool.id}/.well-known/oauth-authorization-server`,
  ]) {
    const answer = await json(`${tarn.url}${path}`);
    expect([path, answer.status, answer.type]).toEqual([path, 200, 'application/json; charset=utf-8']);
    expect(answer.body).toEqual(appended.body);
  }
  expect(appended.body.issuer).toBe(pool.issuer);
  // Another pool's document names that pool; an unknown pool is not found.
  const other = await createPool(tarn);
  expect((await json(`${tarn.url}/.well-known/oauth-authorization-server/pools/${other.id}`)).body.issuer).toBe(other.issuer);
  expect((await fetch(`${tarn.url}/.well-known/oauth-authorization-server/pools/no-such-pool`)).status).toBe(404);
});

it('oauth4webapi discovers a pool with algorithm "oauth2" (RFC 8414) and with "oidc"', async () => {
  const pool = await createPool(tarn);
  const issuer = new URL(pool.issuer);
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    const response = await oauth.discoveryRequest(issuer, { algorithm, [oauth.allowInsecureRequests]: true });
    const as = await oauth.processDiscoveryResponse(issuer, response);
    expect(as.issuer).toBe(pool.issuer);
    expect(as.token_endpoint).toBe(`${pool.issuer}/token`);
  }
});

it('RFC 8414 §2: discovery names how clients authenticate at introspection and revocation', async () => {
  const pool = await createPool(tarn);
  const { body } = await json(`${pool.issuer}/.well-known/openid-configuration`);
  const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
  expect(body.token_endpoint_auth_methods_supported).toEqual(methods);
  expect(body.introspection_endpoint_auth_methods_supported).toEqual(methods);
  expect(body.revocation_endpoint_auth_methods_supported).toEqual(methods);
  // private_key_jwt is among them, so the signing algorithms must be named too.
  expect(body.introspection_endpoint_auth_signing_alg_values_supported).toEqual(body.token_endpoint_auth_signing_alg_values_supported);
  expect(body.revocation_endpoint_auth_signing_alg_values_supported).toEqual(body.token_endpoint_auth_signing_alg_values_supported);
});

it('RFC 7517 §4.3: current, next and retired keys are published with "use" and without "key_ops"', async () => {
  const pool = await createPool(tarn);
  // A rotation makes the old current key retired; the new next key is published in advance.
  const rotated = await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, {});
  expect(rotated.status).toBeLessThan(300);
  for (const url of [`${pool.issuer}/jwks`, `${pool.issuer}/jwks?fresh=1`]) {
    const { body } = await json(url);
    expect(body.keys.length).toBeGreaterThanOrEqual(2);
    for (const key of body.keys) {
      expect(key.use).toBe('sig');
      expect(key).not.toHaveProperty('key_ops');
    }
  }
});
