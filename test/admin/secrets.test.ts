/**
 * Pool API secrets (docs/design.md#pool-api-secrets): current and next both authenticate;
 * rotate-and-revoke makes current revoked (listed, refused), next current, and a new next.
 * Values are shown once and stored hashed.
 */
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

const basic = (poolId: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${poolId}:${secret}`).toString('base64')}` });

async function asPool(poolId: string, secret: string, method = 'GET', path = `/pools/${poolId}`) {
  return tarn.admin(method, path, undefined, basic(poolId, secret));
}

it('authenticates with both secrets; after rotation the old current is refused and the old next works', async () => {
  const pool = await createPool(tarn);
  expect(pool.secret.value).not.toBe(pool.nextSecret.value);
  expect((await asPool(pool.id, pool.secret.value)).status).toBe(200);
  expect((await asPool(pool.id, pool.nextSecret.value)).status).toBe(200);

  const rotated = await asPool(pool.id, pool.secret.value, 'POST', `/pools/${pool.id}/secrets/rotate`);
  expect(rotated.status).toBe(200);
  const newNext = rotated.body.nextSecret.value as string;
  expect(newNext).toMatch(/^tps_/);

  const old = await asPool(pool.id, pool.secret.value);
  expect(old.status).toBe(401);
  expect(old.headers.get('content-type')).toContain('application/problem+json');
  expect((await asPool(pool.id, pool.nextSecret.value)).status).toBe(200);
  expect((await asPool(pool.id, newNext)).status).toBe(200);

  const listed = await tarn.admin('GET', `/pools/${pool.id}/secrets`);
  const statuses = (listed.body.items as { status: string }[]).map((item) => item.status).sort();
  expect(statuses).toEqual(['current', 'next', 'revoked']);
  expect(JSON.stringify(listed.body)).not.toContain(pool.secret.value);
  expect(JSON.stringify(listed.body)).not.toContain('tps_');
});

it('stores only hashes of secrets', async () => {
  const pool = await createPool(tarn);
  const rows = await tarn.database.handle.db.selectFrom('pool_secrets').select('secret_hash').where('pool_id', '=', pool.id).execute();
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row.secret_hash).not.toBe(pool.secret.value);
    expect(row.secret_hash).not.toBe(pool.nextSecret.value);
  }
});

it('limits a pool secret to its own pool', async () => {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  // Pool A's secret sees nothing of pool B: not found, not forbidden.
  const other = await tarn.admin('GET', `/pools/${b.id}`, undefined, basic(a.id, a.secret.value));
  expect(other.status).toBe(404);
  // Pool A's secret presented as pool B's credentials authenticates nothing.
  expect((await asPool(b.id, a.secret.value)).status).toBe(401);
  // Creating, listing and deleting pools need the admin token.
  expect((await tarn.admin('GET', '/pools', undefined, basic(a.id, a.secret.value))).status).toBe(403);
  expect((await tarn.admin('DELETE', `/pools/${a.id}`, undefined, basic(a.id, a.secret.value))).status).toBe(403);
});

it('refuses missing and wrong admin tokens with a problem document', async () => {
  const missing = await fetch(`${tarn.url}/admin/pools`);
  expect(missing.status).toBe(401);
  expect(missing.headers.get('www-authenticate')).toContain('Bearer');
  const wrong = await tarn.admin('GET', '/pools', undefined, { authorization: 'Bearer not-the-token-at-all' });
  expect(wrong.status).toBe(401);
  expect(wrong.body.title).toBe('Unauthorized');
});
