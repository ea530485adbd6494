/**
 * Apache httpd with mod_auth_openidc (Debian's packages) against Tarn started as `npm start`
 * starts it, with Chromium walking the hosted login and consent pages: the claims the protected
 * page sees, client_secret_basic and client_secret_post, PKCE S256, RP-initiated logout, and
 * back-channel logout ending the Apache session.
 */
import type { Browser, Page } from 'playwright-core';
import { startApache, reserveApachePort, type ApacheRelyingParty } from '../support/apache.js';
import { launchChromium } from '../support/chromium.js';
import { createPool, createUser } from '../support/fixtures.js';
import { metricValue, startTarnProcess, stopAllTarnProcesses, type TarnProcess } from '../support/tarn-process.js';

let tarn: TarnProcess;
let browser: Browser;
const apaches: ApacheRelyingParty[] = [];

beforeAll(async () => {
  // The relying party is on this host: the deployment allows loopback (README, OUTGOING_NETWORKS).
  tarn = await startTarnProcess({ env: { OUTGOING_NETWORKS: 'public,loopback' } });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(apaches.map((apache) => apache.stop()));
  await stopAllTarnProcesses();
});

async function relyingParty(authMethod: 'client_secret_basic' | 'client_secret_post') {
  const pool = await createPool(tarn);
  const port = await reserveApachePort();
  const url = `http://127.0.0.1:${port}`;
  const client = await tarn.admin('POST', `/pools/${pool.id}/clients`, {
    name: `Apache (${authMethod})`,
    redirectUris: [`${url}/protected/redirect_uri`],
    postLogoutRedirectUris: [`${url}/logged-out.html`],
    backchannelLogoutUri: `${url}/protected/redirect_uri?logout=backchannel`,
    tokenEndpointAuthMethod: authMethod,
  });
  expect(client.status).toBe(201);
  const user = await createUser(tarn, pool.id, { emailVerified: true, profile: { name: 'Ada Lovelace' } });
  const apache = await startApache({ issuer: pool.issuer, clientId: client.body.clientId, clientSecret: client.body.secret.value, authMethod, port });
  apaches.push(apache);
  return { pool, user, apache };
}

/** Opens the protected page, signs in on Tarn's pages, and returns the page Apache serves. */
async function signInThroughApache(page: Page, apache: ApacheRelyingParty, user: { email: string; password: string }) {
  const authorizationRequests: URL[] = [];
  page.on('request', (request) => {
    if (/\/pools\/[^/]+\/auth\?/.test(request.url())) authorizationRequests.push(new URL(request.url()));
  });
  await page.goto(`${apache.url}/protected/`);
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.click('button[value=allow]');
  await page.waitForURL(`${apache.url}/protected/**`);
  return authorizationRequests;
}

for (const authMethod of ['client_secret_basic', 'client_secret_post'] as const) {
  it(`${authMethod}: sign-in with PKCE S256 shows the claims; RP-initiated logout returns to Apache signed out`, async () => {
    const { user, apache } = await relyingParty(authMethod);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const requests = await signInThroughApache(page, apache, user);
      expect(requests.map((url) => url.searchParams.get('code_challenge_method'))).toEqual(['S256']);
      expect(await page.textContent('#email')).toBe(user.email);
      expect(await page.textContent('#sub')).toBe(user.id);
      expect(await page.textContent('#name')).toBe('Ada Lovelace');
      // Another visit is served from Apache's session, without Tarn.
      await page.goto(`${apache.url}/protected/`);
      expect(await page.textContent('#email')).toBe(user.email);

      await page.goto(`${apache.url}/protected/redirect_uri?logout=${encodeURIComponent(`${apache.url}/logged-out.html`)}`);
      await page.click('button[value=yes]');
      await page.waitForURL(`${apache.url}/logged-out.html`);
      // Signed out of Apache and of Tarn: the protected page asks for a password again.
      await page.goto(`${apache.url}/protected/`);
      await page.waitForSelector('input[name=password]');
    } finally {
      await context.close();
    }
  });
}

it('back-channel logout: ending the session at Tarn ends the Apache session', async () => {
  const { pool, user, apache } = await relyingParty('client_secret_basic');
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await signInThroughApache(page, apache, user);
    expect(await page.textContent('#email')).toBe(user.email);
    const before = await metricValue(tarn.url, 'tarn_backchannel_logout_deliveries_total{outcome="delivered"}');
    // The user signs out at Tarn directly (not through Apache): only the back channel tells Apache.
    await page.goto(`${pool.issuer}/session/end`);
    await page.click('button[value=yes]');
    await page.waitForSelector('text=signed out');
    expect(await metricValue(tarn.url, 'tarn_backchannel_logout_deliveries_total{outcome="delivered"}')).toBe(before + 1);
    // Apache's session is gone: the protected page sends the browser to Tarn's login again.
    await page.goto(`${apache.url}/protected/`);
    await page.waitForSelector('input[name=password]');
  } finally {
    await context.close();
  }
});
