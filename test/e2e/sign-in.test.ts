/**
 * The newcomer's story: an admin creates a pool, an application and a user; a relying
 * party using openid-client signs the user in through the hosted pages (OIDC Core §3.1,
 * authorization code flow with PKCE, RFC 7636), verifies the ID token against the pool's
 * JWKS, reads userinfo and refreshes.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, setUpSignIn, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

describe('sign-in with openid-client (authorization code + PKCE)', () => {
  it('signs a user in, verifies the ID token against the JWKS, reads userinfo and refreshes', async () => {
    const pool = await createPool(tarn, { name: 'Acme Staff', tagColor: '#aa3300' });
    const app = await createClient(tarn, pool.id, { name: 'Acme Portal' });
    const user = await createUser(tarn, pool.id, { profile: { name: 'Ada Lovelace', given_name: 'Ada' }, emailVerified: true });
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    expect(config.serverMetadata().issuer).toBe(`${tarn.url}/pools/${pool.id}`);

    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    // The hosted login page is branded with the pool and names the application.
    expect(start.page.status).toBe(200);
    const loginText = visibleText(start.page.html);
    expect(loginText).toContain('Acme Staff');
    expect(loginText).toContain('Acme Portal');
    expect(start.page.html).toContain('name="csrf"');

    const consentPage = await browser.submit(start.page, { email: user.email, password: user.password });
    expect(visibleText(consentPage.html)).toContain('Allow access');
    expect(visibleText(consentPage.html)).toContain('See your email address');
    const done = await browser.submit(consentPage, { decision: 'allow' });
    const callback = new URL(done.leftTo!);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: start.verifier,
      expectedState: start.state,
      expectedNonce: start.nonce,
    });

    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: pool.issuer, audience: app.clientId });
    expect(payload.sub).toBe(user.id);
    expect(payload.email).toBe(user.email);
    expect(payload.name).toBe('Ada Lovelace');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: true, name: 'Ada Lovelace', given_name: 'Ada' });

    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const again = await oidc.fetchUserInfo(config, refreshed.access_token, user.id);
    expect(again.sub).toBe(user.id);
  });

  it('remembers consent: the second sign-in in the same browser asks nothing', async () => {
    const { user, config } = await setUpSignIn(tarn);
    const first = await signIn(config, tarn.url, user);
    const second = await startAuthorization(config, first.browser);
    expect(second.page.leftTo).toMatch(/^http:\/\/rp\.example\.test\/callback\?code=/);
  });

  it('shows the same error for a wrong password and an unknown email, and signs nobody in', async () => {
    const { user, config } = await setUpSignIn(tarn);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    const wrong = await browser.submit(start.page, { email: user.email, password: 'not-the-password' });
    const unknown = await browser.submit(wrong, { email: 'nobody@example.test', password: 'whatever-it-is' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(visibleText(wrong.html)).toContain('Invalid email or password.');
    expect(visibleText(unknown.html)).toContain('Invalid email or password.');
    expect(wrong.leftTo).toBeUndefined();
  });

  it('refuses a login form without its CSRF token', async () => {
    const { user, config } = await setUpSignIn(tarn);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    const action = /action="([^"]+)"/.exec(start.page.html)![1]!;
    const forged = await browser.navigate('POST', action, { email: user.email, password: user.password, csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(visibleText(forged.html)).toContain('Request refused');
    expect(forged.leftTo).toBeUndefined();
  });

  it('lets the user deny consent, and the application receives access_denied', async () => {
    const { user, config } = await setUpSignIn(tarn);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    const consent = await browser.submit(start.page, { email: user.email, password: user.password });
    const denied = await browser.submit(consent, { decision: 'deny' });
    const callback = new URL(denied.leftTo!);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(start.state);
  });

  it('signs in a public client (token endpoint auth "none") with PKCE', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id, { tokenEndpointAuthMethod: 'none' });
    expect(app.secret?.value).toBeUndefined();
    const user = await createUser(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId);
    const { tokens } = await signIn(config, tarn.url, user);
    expect(tokens.claims()!.sub).toBe(user.id);
  });

  it('shows a branded error page, not a redirect, for an unregistered redirect_uri', async () => {
    const pool = await createPool(tarn, { name: 'Branded Pool' });
    const app = await createClient(tarn, pool.id);
    const browser = new Browser(tarn.url);
    const url = new URL(`${pool.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: app.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://evil.example/steal',
    }).toString();
    const page = await browser.get(url.href);
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(400);
    const text = visibleText(page.html);
    expect(text).toContain('Branded Pool');
    // Words for people, not the protocol's: the address was not registered.
    expect(text).toContain('an address it has not registered');
    expect(text).not.toContain('redirect_uri');
    expect(page.html).not.toMatch(/at \w+ \(.*:\d+:\d+\)/); // no stack trace
  });
});
