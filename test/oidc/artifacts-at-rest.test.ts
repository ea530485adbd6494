/**
 * Someone who reads a dump or a backup of the database finds no credential in it: after a
 * full sign-in, a refresh and a device authorization, none of the tokens, codes, session
 * cookie values, interaction ids or user codes that were handed out appear in the dump,
 * and every one of them still works at Tarn (found through its keyed hash).
 */
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { Browser, type Page } from '../support/browser.js';
import { dumpDatabase } from '../support/dump.js';
import { REDIRECT_URI } from '../support/fixtures.js';
import { postForm } from '../support/protocol.js';
import { setUpSignIn, startAuthorization, finishAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

/** What a person's browser was handed: interaction ids in page URLs, and every Tarn cookie value. */
function collectFrom(browser: Browser, page: Page & { leftTo?: string }, issued: [string, string][]): void {
  const uid = /\/interaction\/([^/?#]+)/.exec(page.url)?.[1];
  if (uid) issued.push([uid, 'interaction id']);
  for (const pair of browser.cookiePairs('_tarn_')) {
    const [name = '', value = ''] = pair.split(/=(.*)/s);
    if (!name.endsWith('.sig')) issued.push([decodeURIComponent(value), `cookie ${name}`]);
  }
}

it('a database dump holds none of the tokens, codes, session ids, interaction ids or user codes issued, and they all still work', async () => {
  const { pool, app, user, config } = await setUpSignIn(tarn, { client: { grantTypes: ['authorization_code', 'refresh_token', DEVICE_GRANT] } });
  const issued: [string, string][] = [];

  // A full sign-in through the hosted pages.
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  collectFrom(browser, start.page, issued);
  const consent = await browser.submit(start.page, { email: user.email, password: user.password });
  collectFrom(browser, consent, issued);
  const back = consent.html.includes('name="decision"') ? await browser.submit(consent, { decision: 'allow' }) : consent;
  collectFrom(browser, back, issued);
  const { tokens, callback } = await finishAuthorization(config, back.leftTo, start);
  issued.push([callback.searchParams.get('code')!, 'authorization code']);
  issued.push([tokens.access_token, 'access token']);
  issued.push([tokens.refresh_token!, 'refresh token']);

  // A refresh (rotation: a new refresh token and a new access token).
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  issued.push([refreshed.access_token, 'refreshed access token']);
  issued.push([refreshed.refresh_token!, 'rotated refresh token']);

  // A device authorization, entered and confirmed on the device page by the signed-in person.
  const issuer = new URL(pool.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const device: oauth.Client = { client_id: app.clientId };
  const deviceAuth = oauth.ClientSecretBasic(app.secret!.value);
  const grant = await oauth.processDeviceAuthorizationResponse(
    as,
    device,
    await oauth.deviceAuthorizationRequest(as, device, deviceAuth, { scope: 'openid' }, insecure),
  );
  issued.push([grant.device_code, 'device code']);
  issued.push([grant.user_code, 'user code']);
  issued.push([grant.user_code.replace('-', ''), 'user code (normalised)']);
  const input = await browser.get(grant.verification_uri);
  const confirm = await browser.submit(input, { user_code: grant.user_code });
  const deviceConsent = await browser.submit(confirm, { confirm: 'yes' });
  collectFrom(browser, deviceConsent, issued);
  const done = deviceConsent.html.includes('name="decision"') ? await browser.submit(deviceConsent, { decision: 'allow' }) : deviceConsent;
  expect(done.html).toContain('Device connected');
  const deviceTokens = await oauth.processDeviceCodeResponse(
    as,
    device,
    await oauth.deviceCodeGrantRequest(as, device, deviceAuth, grant.device_code, insecure),
  );
  issued.push([deviceTokens.access_token, 'device access token']);

  // And a sign-in left half-way, on the login page: its interaction is still stored.
  const walkAway = new Browser(tarn.url);
  collectFrom(walkAway, (await startAuthorization(config, walkAway)).page, issued);

  const dump = await dumpDatabase(tarn.database);
  // The dump is the real thing: it holds the pool's users and artifacts.
  expect(dump).toContain(user.email);
  expect(dump).toContain(pool.id);
  const secrets = issued.filter(([value]) => value.length >= 8);
  expect(secrets.map(([, what]) => what)).toEqual(
    expect.arrayContaining(['interaction id', 'cookie _tarn_session', 'authorization code', 'refresh token', 'device code', 'user code']),
  );
  expect(secrets.filter(([value]) => dump.includes(value)).map(([value, what]) => `${what}: ${value}`)).toEqual([]);

  // Each still works at Tarn: the refreshed access token and the device's introspect as active,
  // the first reads userinfo, and revoking the rotated refresh token ends it.
  const auth = { clientId: app.clientId, clientSecret: app.secret?.value };
  for (const token of [refreshed.access_token, deviceTokens.access_token]) {
    const introspection = await postForm(`${pool.issuer}/token/introspection`, { token }, auth);
    expect(introspection.body).toMatchObject({ active: true, sub: user.id });
  }
  const userinfo = await fetch(`${pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
  expect(userinfo.status).toBe(200);
  expect((await postForm(`${pool.issuer}/token/revocation`, { token: refreshed.refresh_token!, token_type_hint: 'refresh_token' }, auth)).status).toBe(200);
  const afterRevocation = await postForm(`${pool.issuer}/token`, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! }, auth);
  expect(afterRevocation.body.error).toBe('invalid_grant');
  // The session cookie still signs the person in without a password (a new code straight away).
  const again = await startAuthorization(config, browser);
  expect(again.page.leftTo?.startsWith(REDIRECT_URI) || again.page.html.includes('name="decision"')).toBe(true);
});

it('a hash read from the dump is not a token: presented to Tarn, it finds nothing', async () => {
  const { pool, app, user, config } = await setUpSignIn(tarn);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const consent = await browser.submit(start.page, { email: user.email, password: user.password });
  const back = consent.html.includes('name="decision"') ? await browser.submit(consent, { decision: 'allow' }) : consent;
  const { tokens } = await finishAuthorization(config, back.leftTo, start);

  const rows = await tarn.database.handle.db
    .selectFrom('oidc_artifacts')
    .select(['id', 'model'])
    .where('pool_id', '=', pool.id)
    .where('model', 'in', ['AccessToken', 'RefreshToken'])
    .execute();
  expect(rows.map((row) => row.model).sort()).toEqual(['AccessToken', 'RefreshToken']);
  const auth = { clientId: app.clientId, clientSecret: app.secret?.value };
  for (const row of rows) {
    const introspection = await postForm(`${pool.issuer}/token/introspection`, { token: row.id }, auth);
    expect(introspection.body).toEqual({ active: false });
    const refresh = await postForm(`${pool.issuer}/token`, { grant_type: 'refresh_token', refresh_token: row.id }, auth);
    expect(refresh.body.error).toBe('invalid_grant');
  }
  expect((await postForm(`${pool.issuer}/token/introspection`, { token: tokens.access_token }, auth)).body.active).toBe(true);
});
