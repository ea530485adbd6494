/**
 * Signing-key rotation (docs/design.md#signing-keys): next keys are published ahead of use,
 * rotation promotes next to current and retires current (still published, so tokens it
 * signed keep verifying), rotation with revoke removes the current key at once.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn({ PROVIDER_CHECK_INTERVAL_MS: '0' });
});
afterAll(async () => {
  await tarn.close();
});

async function jwks(issuer: string): Promise<JSONWebKeySet> {
  const response = await fetch(`${issuer}/jwks`);
  expect(response.status).toBe(200);
  return (await response.json()) as JSONWebKeySet;
}

const kids = (set: JSONWebKeySet) => set.keys.map((key) => key.kid).sort();
type KeyView = { kid: string; alg: string; status: string; published: boolean };

async function keysByStatus(poolId: string, alg = 'RS256') {
  const response = await tarn.admin('GET', `/pools/${poolId}/keys`);
  expect(response.status).toBe(200);
  const items = response.body.items as KeyView[];
  const only = (status: string) => items.filter((key) => key.alg === alg && key.status === status).map((key) => key.kid);
  return { current: only('current'), next: only('next'), retired: only('retired'), revoked: only('revoked'), items };
}

it('publishes current and next keys of RS256 and ES256, with no private parts', async () => {
  const pool = await createPool(tarn);
  const set = await jwks(pool.issuer);
  const keys = await keysByStatus(pool.id);
  expect(set.keys).toHaveLength(4);
  expect(new Set(set.keys.map((key) => key.alg))).toEqual(new Set(['RS256', 'ES256']));
  expect(kids(set)).toEqual(expect.arrayContaining([...keys.current, ...keys.next]));
  for (const key of set.keys) {
    expect(key).not.toHaveProperty('d');
    expect(key).not.toHaveProperty('p');
  }
});

it('rotates: the next key signs, the old current stays published and its tokens still verify; revoke removes it', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const before = await keysByStatus(pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);

  const first = await signIn(config, tarn.url, user);
  const oldToken = first.tokens.id_token!;
  expect(decodeProtectedHeader(oldToken).kid).toBe(before.current[0]);

  const rotated = await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, {});
  expect(rotated.status).toBe(200);
  const after = await keysByStatus(pool.id);
  expect(after.current).toEqual(before.next);
  expect(after.retired).toEqual(before.current);
  expect(after.next).toHaveLength(1);
  expect(after.next).not.toEqual(before.next);

  const published = await jwks(pool.issuer);
  expect(kids(published)).toEqual(expect.arrayContaining([...after.current, ...after.retired, ...after.next]));
  // A token the old current key signed still verifies against the published set.
  await expect(jwtVerify(oldToken, createLocalJWKSet(published), { issuer: pool.issuer })).resolves.toBeTruthy();

  const second = await signIn(config, tarn.url, user);
  expect(decodeProtectedHeader(second.tokens.id_token!).kid).toBe(before.next[0]);

  // Compromise response: the current key is revoked at once and disappears from the JWKS.
  const revoked = await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, { revoke: true });
  expect(revoked.status).toBe(200);
  const final = await keysByStatus(pool.id);
  expect(final.revoked).toEqual(before.next);
  expect(final.current).toEqual(after.next);
  const finalSet = await jwks(pool.issuer);
  expect(kids(finalSet)).not.toContain(before.next[0]);
  await expect(jwtVerify(second.tokens.id_token!, createLocalJWKSet(finalSet), { issuer: pool.issuer })).rejects.toThrow();
  // The retired key of the first rotation is still published for what it signed.
  expect(kids(finalSet)).toContain(before.current[0]);

  const third = await signIn(config, tarn.url, user);
  expect(decodeProtectedHeader(third.tokens.id_token!).kid).toBe(after.next[0]);
});

it('keeps private keys encrypted at rest', async () => {
  const pool = await createPool(tarn);
  const rows = await tarn.database.handle.db.selectFrom('signing_keys').select(['kid', 'private_jwk_enc']).where('pool_id', '=', pool.id).execute();
  expect(rows).toHaveLength(4);
  for (const row of rows) {
    expect(row.private_jwk_enc).toMatch(/^v1\./);
    expect(row.private_jwk_enc).not.toContain('"d"');
    expect(Buffer.from(row.private_jwk_enc.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('"kty"');
  }
});

it('validates the rotate body', async () => {
  const pool = await createPool(tarn);
  const response = await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, { revoke: 'yes' });
  expect(response.status).toBe(400);
  expect(response.body.errors[0].field).toBe('revoke');
});
