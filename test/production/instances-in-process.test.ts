/**
 * Two app instances (separate Koa servers, separate provider caches) on one database,
 * in this process (ADR 0801). On PGlite nothing notifies: the version check alone must
 * carry every change from A to B within PROVIDER_CHECK_INTERVAL_MS; on PostgreSQL,
 * LISTEN/NOTIFY carries it sooner. Either way the test waits no longer than the bound.
 */
import { randomBytes } from 'node:crypto';
import { Browser, visibleText } from '../support/browser.js';
import { REDIRECT_URI, createClient, createPool } from '../support/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const CHECK_INTERVAL_MS = 500;
/** The bound: one check interval, plus margin for a loaded test machine. */
const BOUND_MS = CHECK_INTERVAL_MS + 2000;

let database: TestDatabase;
let a: RunningTarn;
let b: RunningTarn;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { TARN_MASTER_KEY: randomBytes(32).toString('hex'), PROVIDER_CHECK_INTERVAL_MS: String(CHECK_INTERVAL_MS) };
  a = await startTarn(env, database);
  b = await startTarn(env, database);
});
afterAll(async () => {
  await a.close();
  await b.close();
  await database.drop();
});

async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function kids(target: RunningTarn, poolId: string): Promise<string[]> {
  const body = (await (await fetch(`${target.url}/pools/${poolId}/jwks`)).json()) as { keys: { kid: string }[] };
  return body.keys.map((key) => key.kid);
}

describe('changes made through one instance reach the other within the bound', () => {
  it('key rotation with revoke: B stops publishing the revoked key', async () => {
    const pool = await createPool(a);
    const before = await kids(b, pool.id);
    const rotated = await a.admin('POST', `/pools/${pool.id}/keys/rotate`, { revoke: true });
    const revoked = rotated.body.items.filter((key: { status: string }) => key.status === 'revoked').map((key: { kid: string }) => key.kid);
    expect(before).toEqual(expect.arrayContaining(revoked));
    expect(await eventually(async () => (await kids(b, pool.id)).every((kid) => !revoked.includes(kid)))).toBe(true);
  });

  it("pool settings: B's hosted pages show the new name", async () => {
    const pool = await createPool(a, { name: 'Old Name' });
    const app = await createClient(a, pool.id);
    const url = `${b.url}/pools/${pool.id}/auth?${new URLSearchParams({ client_id: app.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    expect(visibleText((await new Browser(b.url).get(url)).html)).toContain('Old Name');
    await a.admin('PATCH', `/pools/${pool.id}`, { name: 'New Name' });
    expect(await eventually(async () => visibleText((await new Browser(b.url).get(url)).html).includes('New Name'))).toBe(true);
  });

  it('client deletion: B refuses the deleted client at its token endpoint', async () => {
    const pool = await createPool(a);
    const app = await createClient(a, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
    const grant = () =>
      fetch(`${b.url}/pools/${pool.id}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${app.clientId}:${app.secret?.value}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
    expect((await grant()).status).toBe(200);
    expect((await a.admin('DELETE', `/pools/${pool.id}/clients/${app.clientId}`)).status).toBe(204);
    expect(await eventually(async () => (await grant()).status === 401)).toBe(true);
  });
});
