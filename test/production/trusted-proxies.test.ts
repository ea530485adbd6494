/**
 * TRUST_PROXY=N: the client address is the X-Forwarded-For entry that the outermost of
 * the N trusted proxies appended, never an entry the client wrote itself. Here the test is
 * "one proxy": it sends `X-Forwarded-For: <forged>, <real client>` as a proxy that appends
 * the address it saw would forward it. Failed sign-ins are throttled per real client, and
 * the audit log records the real client, however the forged part rotates.
 */
import { Browser } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn({ TRUST_PROXY: '1', RATE_LIMIT_LOGIN_FAILURES: '3' });
});
afterAll(async () => {
  await tarn?.close();
});

const REAL_CLIENT = '203.0.113.7';

it('throttles failed sign-ins by the address the proxy appended, whatever the client forges to its left', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  let page = (await startAuthorization(config, browser)).page;

  const statuses: number[] = [];
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    browser.headers = { 'x-forwarded-for': `198.51.100.${attempt}, 10.0.${attempt}.1, ${REAL_CLIENT}` };
    page = await browser.submit(page, { email: user.email, password: `wrong-${attempt}` });
    statuses.push(page.status);
  }
  expect(statuses).toEqual([401, 401, 401, 429]);

  // Another client behind the same proxy is not punished for the first one's failures.
  browser.headers = { 'x-forwarded-for': `${REAL_CLIENT}, 203.0.113.8` };
  const neighbour = await browser.get(
    `${tarn.url}/pools/${pool.id}/auth?${new URLSearchParams({ client_id: app.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'http://rp.example.test/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`,
  );
  const wrongAgain = await browser.submit(neighbour, { email: user.email, password: 'wrong-again' });
  expect(wrongAgain.status).toBe(401);

  const audit = await tarn.admin('GET', `/pools/${pool.id}/audit?action=sign_in.failure&limit=100`);
  expect(audit.status).toBe(200);
  const addresses = (audit.body.items as { ip: string }[]).map((item) => item.ip).sort();
  expect(addresses).toEqual([REAL_CLIENT, REAL_CLIENT, REAL_CLIENT, '203.0.113.8']);
});

it('ignores X-Forwarded-For altogether when no proxy is trusted', async () => {
  const direct = await startTarn({ RATE_LIMIT_LOGIN_FAILURES: '2' }, tarn.database);
  try {
    const pool = await createPool(direct);
    const app = await createClient(direct, pool.id);
    const user = await createUser(direct, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const browser = new Browser(direct.url);
    let page = (await startAuthorization(config, browser)).page;
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      browser.headers = { 'x-forwarded-for': `198.51.100.${attempt}` };
      page = await browser.submit(page, { email: user.email, password: `wrong-${attempt}` });
      statuses.push(page.status);
    }
    expect(statuses).toEqual([401, 401, 429]);
    const audit = await direct.admin('GET', `/pools/${pool.id}/audit?action=sign_in.failure&limit=100`);
    expect((audit.body.items as { ip: string }[]).map((item) => item.ip)).toEqual(['127.0.0.1', '127.0.0.1']);
  } finally {
    await direct.close();
  }
});
