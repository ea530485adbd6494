/**
 * OpenID Connect Basic OP certification plan (oidcc-basic-certification-test-plan), as a
 * relying party sees it: openid-client for what a correct RP does, raw HTTP for what a
 * broken or malicious one sends. Each test names the conformance-suite module (or spec
 * section) whose intent it covers; docs/conformance.md lists them.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { Browser, visibleText } from '../support/browser.js';
import { createClient, REDIRECT_URI } from '../support/fixtures.js';
import { signIn } from '../support/relying-party.js';
import { authorizationUrl, authorize, callbackParams, codeRequest, postForm, setupPool, withClockAdvanced, type PoolSetup } from '../support/protocol.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

/** OIDC Core §3.1.3.6: at_hash/c_hash = base64url of the left half of SHA-256 of the value (RS256). */
function leftHalfHash(value: string): string {
  const digest = createHash('sha256').update(value).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Signs the setup's user in (fresh browser) and returns the code the app received. */
async function codeFor(setup: PoolSetup, overrides: Record<string, string> = {}, browser = new Browser(tarn.url)) {
  const { params, verifier } = await codeRequest(setup.app.clientId, overrides);
  const page = await authorize(browser, authorizationUrl(setup.pool.issuer, params), setup.user);
  const received = callbackParams(page.leftTo);
  return { code: received.get('code')!, received, params, verifier, browser };
}

function exchange(
  setup: PoolSetup,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
  auth = { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
) {
  return postForm(
    `${setup.pool.issuer}/token`,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...extra },
    auth,
  );
}

describe('Basic OP: the ID token', () => {
  it("oidcc-server: is signed with the pool's current key and carries iss, aud, exp, iat, nonce, auth_time (require_auth_time) and a correct at_hash", async () => {
    const setup = await setupPool(tarn);
    const { code, params, verifier, received } = await codeFor(setup);
    // RFC 9207: the authorization response names its issuer.
    expect(received.get('iss')).toBe(setup.pool.issuer);
    expect(received.get('state')).toBe(params.state);
    const response = await exchange(setup, code, verifier);
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('Bearer');
    expect(response.headers.get('cache-control')).toContain('no-store');
    const idToken: string = response.body.id_token;

    const keys = await tarn.admin('GET', `/pools/${setup.pool.id}/keys`);
    const current = keys.body.items.find((key: { alg: string; status: string }) => key.alg === 'RS256' && key.status === 'current');
    const header = decodeProtectedHeader(idToken);
    expect(header).toMatchObject({ alg: 'RS256', kid: current.kid });
    // Verified with the current key itself, and with the published JWKS as an RP does.
    const { payload } = await jwtVerify(idToken, await importJWK(current.publicJwk, 'RS256'), { issuer: setup.pool.issuer, audience: setup.app.clientId });
    await jwtVerify(idToken, createRemoteJWKSet(new URL(`${setup.pool.issuer}/jwks`)));
    const now = Math.floor(Date.now() / 1000);
    expect(payload.sub).toBe(setup.user.id);
    expect(payload.nonce).toBe(params.nonce);
    expect(payload.iat).toBeLessThanOrEqual(now + 5);
    expect(payload.exp).toBeGreaterThan(now);
    expect(typeof payload.auth_time).toBe('number');
    // OIDC Core §3.1.3.8: at_hash is optional in the code flow; when present it must match.
    if (payload.at_hash !== undefined) expect(payload.at_hash).toBe(leftHalfHash(response.body.access_token));
    // c_hash is only required for hybrid flows (OIDC Core §3.3.2.11), which this OP does not offer.
    expect(payload.c_hash).toBeUndefined();
  });

  it('oidcc-idtoken-signature / oidcc-server: openid-client validates the whole response (signature, nonce, state, PKCE)', async () => {
    const setup = await setupPool(tarn);
    const { tokens } = await signIn(setup.config, tarn.url, setup.user);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(setup.pool.issuer);
    expect(claims.aud).toBe(setup.app.clientId);
  });

  it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow: nonce is optional in the code flow', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId);
    delete params.nonce;
    const { verifier } = await codeRequest(setup.app.clientId);
    params.code_challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const page = await authorize(new Browser(tarn.url), authorizationUrl(setup.pool.issuer, params), setup.user);
    const response = await exchange(setup, callbackParams(page.leftTo).get('code')!, verifier);
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.id_token).nonce).toBeUndefined();
  });
});

describe('Basic OP: authorization requests', () => {
  it('oidcc-response-type-missing: a request without response_type is refused with invalid_request', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId);
    delete params.response_type;
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    const error = page.leftTo ? callbackParams(page.leftTo).get('error') : /invalid_request/.exec(page.html)?.[0];
    expect(error).toBe('invalid_request');
  });

  it('oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri gets an error page, never a redirect', async () => {
    const setup = await setupPool(tarn, {}, { name: 'Strict Pool' });
    for (const redirect of [
      'https://attacker.example/callback',
      `${REDIRECT_URI}/extra`,
      `${REDIRECT_URI}?x=1`,
      REDIRECT_URI.toUpperCase(),
      `${REDIRECT_URI}/`,
    ]) {
      const { params } = await codeRequest(setup.app.clientId, { redirect_uri: redirect });
      const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
      expect(page.leftTo).toBeUndefined();
      expect(page.status).toBe(400);
      expect(visibleText(page.html)).toContain('Strict Pool');
      // In the user's words; the protocol detail goes to the log, with the request id shown.
      expect(visibleText(page.html)).toContain('Application misconfigured');
    }
  });

  it('oidcc-ensure-redirect-uri-in-authorization-request: redirect_uri is required even with one registered', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId);
    delete params.redirect_uri;
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(400);
    expect(visibleText(page.html)).toContain('Application misconfigured');
  });

  it('oidcc-ensure-post-request-succeeds: the authorization endpoint accepts POST (OIDC Core §3.1.2.1)', async () => {
    const setup = await setupPool(tarn);
    const { params, verifier } = await codeRequest(setup.app.clientId);
    const browser = new Browser(tarn.url);
    let page = await browser.navigate('POST', `${setup.pool.issuer}/auth`, params);
    page = await browser.submit(page, { email: setup.user.email, password: setup.user.password });
    page = await browser.submit(page, { decision: 'allow' });
    const response = await exchange(setup, callbackParams(page.leftTo).get('code')!, verifier);
    expect(response.status).toBe(200);
  });

  it('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: request objects are refused as unsupported', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId, { request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.' });
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    expect(callbackParams(page.leftTo).get('error')).toBe('request_not_supported');
  });

  it('oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported: request_uri (outside PAR) is refused as unsupported', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId, { request_uri: 'https://rp.example.test/request.jwt' });
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    expect(callbackParams(page.leftTo).get('error')).toBe('request_uri_not_supported');
  });

  it('oidcc-display-page / oidcc-display-popup / oidcc-ui-locales / oidcc-claims-locales / oidcc-ensure-request-with-acr-values-succeeds / oidcc-ensure-request-with-unknown-parameter-succeeds: optional and unknown parameters are accepted', async () => {
    const setup = await setupPool(tarn);
    const extras: Record<string, string>[] = [
      { display: 'page' },
      { display: 'popup' },
      { ui_locales: 'fr-CA fr en' },
      { claims_locales: 'de en' },
      { acr_values: '1 2' },
      { extra_parameter: 'ignored' },
    ];
    for (const extra of extras) {
      const { params } = await codeRequest(setup.app.clientId, extra);
      const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
      expect(page.status).toBe(200);
      expect(page.html).toContain('name="password"');
    }
  });

  it('oidcc-login-hint: the login page is pre-filled with login_hint', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId, { login_hint: setup.user.email });
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    expect(page.html).toContain(`value="${setup.user.email}"`);
  });

  it('oidcc-ensure-other-scope-order-succeeds: scope order does not matter', async () => {
    const setup = await setupPool(tarn);
    const { code, verifier } = await codeFor(setup, { scope: 'email openid' });
    const response = await exchange(setup, code, verifier);
    expect(response.status).toBe(200);
    expect(response.body.scope.split(' ').sort()).toEqual(['email', 'openid']);
  });
});

describe('Basic OP: prompt, max_age and auth_time', () => {
  it('oidcc-prompt-none-not-logged-in: prompt=none without a session returns login_required to the client', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId, { prompt: 'none' });
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    const received = callbackParams(page.leftTo);
    expect(received.get('error')).toBe('login_required');
    expect(received.get('state')).toBe(params.state);
  });

  it('oidcc-prompt-none-logged-in: prompt=none with a session and a grant returns a code without any page', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup);
    const { params, verifier } = await codeRequest(setup.app.clientId, { prompt: 'none' });
    const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
    const response = await exchange(setup, callbackParams(page.leftTo).get('code')!, verifier);
    expect(response.status).toBe(200);
  });

  it('oidcc-prompt-none-logged-in (consent missing): prompt=none with a session but new scopes returns consent_required', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup, { scope: 'openid' });
    const { params } = await codeRequest(setup.app.clientId, { prompt: 'none', scope: 'openid email' });
    const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
    expect(callbackParams(page.leftTo).get('error')).toBe('consent_required');
  });

  it('oidcc-prompt-login: prompt=login asks for the password again and auth_time moves forward', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup);
    const firstTokens = await exchange(setup, first.code, first.verifier);
    const firstAuthTime = decodeJwt(firstTokens.body.id_token).auth_time as number;
    await withClockAdvanced(5, async () => {
      const { params, verifier } = await codeRequest(setup.app.clientId, { prompt: 'login' });
      const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
      expect(page.leftTo).toBeUndefined();
      expect(page.html).toContain('name="password"');
      const done = await first.browser.submit(page, { email: setup.user.email, password: setup.user.password });
      const response = await exchange(setup, callbackParams(done.leftTo).get('code')!, verifier);
      expect(decodeJwt(response.body.id_token).auth_time as number).toBeGreaterThan(firstAuthTime);
    });
  });

  it('prompt=consent (OIDC Core §3.1.2.1): the consent page is shown again even though consent was given', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup);
    const { params } = await codeRequest(setup.app.clientId, { prompt: 'consent' });
    const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
    expect(page.leftTo).toBeUndefined();
    expect(page.html).toContain('name="decision"');
  });

  it('oidcc-max-age-1: an older sign-in than max_age allows is asked again; auth_time is in the ID token', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup);
    const firstAuthTime = decodeJwt((await exchange(setup, first.code, first.verifier)).body.id_token).auth_time as number;
    await withClockAdvanced(3, async () => {
      const { params, verifier } = await codeRequest(setup.app.clientId, { max_age: '1' });
      const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
      expect(page.html).toContain('name="password"');
      const done = await first.browser.submit(page, { email: setup.user.email, password: setup.user.password });
      const response = await exchange(setup, callbackParams(done.leftTo).get('code')!, verifier);
      const claims = decodeJwt(response.body.id_token);
      // The new sign-in, on a clock 3 seconds on, not the first one.
      expect(claims.auth_time as number).toBeGreaterThanOrEqual(firstAuthTime + 3);
    });
  });

  it('oidcc-max-age-10000: a recent sign-in is reused and auth_time is returned', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup);
    const { params, verifier } = await codeRequest(setup.app.clientId, { max_age: '10000' });
    const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
    const response = await exchange(setup, callbackParams(page.leftTo).get('code')!, verifier);
    expect(typeof decodeJwt(response.body.id_token).auth_time).toBe('number');
  });

  it('oidcc-id-token-hint: prompt=none with the previous ID token as id_token_hint succeeds', async () => {
    const setup = await setupPool(tarn);
    const first = await codeFor(setup);
    const firstTokens = await exchange(setup, first.code, first.verifier);
    const { params, verifier } = await codeRequest(setup.app.clientId, { prompt: 'none', id_token_hint: firstTokens.body.id_token });
    const page = await first.browser.get(authorizationUrl(setup.pool.issuer, params));
    const response = await exchange(setup, callbackParams(page.leftTo).get('code')!, verifier);
    expect(decodeJwt(response.body.id_token).sub).toBe(setup.user.id);
  });
});

describe('Basic OP: codes (RFC 6749 §4.1.2, §4.1.3; RFC 7636)', () => {
  it('oidcc-codereuse / oidcc-codereuse-30seconds: a code works once; reuse fails and revokes the tokens it issued', async () => {
    const setup = await setupPool(tarn);
    const { code, verifier } = await codeFor(setup);
    const first = await exchange(setup, code, verifier);
    expect(first.status).toBe(200);
    expect((await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } })).status).toBe(200);

    const second = await exchange(setup, code, verifier);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    // RFC 6749 §4.1.2: the tokens issued from the code are revoked.
    const userinfo = await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
    expect(userinfo.status).toBe(401);
    const refresh = await postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
    );
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §4.1.3: a code is bound to the client it was issued to', async () => {
    const setup = await setupPool(tarn);
    const other = await createClient(tarn, setup.pool.id, { name: 'Other App' });
    const { code, verifier } = await codeFor(setup);
    const stolen = await exchange(setup, code, verifier, {}, { clientId: other.clientId, clientSecret: other.secret?.value });
    expect(stolen.body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §4.1.3: a code is bound to the redirect_uri of the authorization request', async () => {
    const setup = await setupPool(tarn, { redirectUris: [REDIRECT_URI, 'http://rp.example.test/other'] });
    const { code, verifier } = await codeFor(setup);
    const wrong = await exchange(setup, code, verifier, { redirect_uri: 'http://rp.example.test/other' });
    expect(wrong.body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §4.1.2 / §10.5: a code expires (60 s here)', async () => {
    const setup = await setupPool(tarn);
    const { code, verifier } = await codeFor(setup);
    const late = await withClockAdvanced(61, () => exchange(setup, code, verifier));
    expect(late.body.error).toBe('invalid_grant');
  });

  it('oidcc-ensure-request-with-valid-pkce-succeeds and RFC 7636 §4.6: a wrong or missing code_verifier is refused', async () => {
    const setup = await setupPool(tarn);
    const { code, verifier } = await codeFor(setup);
    const wrong = await exchange(setup, code, oidc.randomPKCECodeVerifier());
    expect(wrong.body.error).toBe('invalid_grant');
    const { code: code2 } = await codeFor(setup);
    const missing = await postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT_URI },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
    );
    expect(missing.body.error).toBe('invalid_grant');
    const { code: code3, verifier: verifier3 } = await codeFor(setup);
    expect((await exchange(setup, code3, verifier3)).status).toBe(200);
    void verifier;
  });

  it('RFC 7636 §4.3, §4.4.1: a public client must send a S256 code_challenge; "plain" is refused', async () => {
    const setup = await setupPool(tarn, { tokenEndpointAuthMethod: 'none' });
    const { params } = await codeRequest(setup.app.clientId);
    delete params.code_challenge;
    delete params.code_challenge_method;
    const missing = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    expect(callbackParams(missing.leftTo).get('error')).toBe('invalid_request');

    const { params: plain } = await codeRequest(setup.app.clientId, { code_challenge_method: 'plain', code_challenge: oidc.randomPKCECodeVerifier() });
    const refused = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, plain));
    const received = callbackParams(refused.leftTo);
    expect(received.get('error')).toBe('invalid_request');
    expect(received.get('error_description')).toMatch(/code_challenge_method/);
  });
});

describe('Basic OP: userinfo and scopes (OIDC Core §5)', () => {
  it('oidcc-userinfo-get / oidcc-userinfo-post-header / oidcc-userinfo-post-body: userinfo answers GET and POST', async () => {
    const setup = await setupPool(tarn);
    const { code, verifier } = await codeFor(setup);
    const { body } = await exchange(setup, code, verifier);
    const get = await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(await get.json()).toMatchObject({ sub: setup.user.id, email: setup.user.email, name: 'Grace Hopper' });
    const postHeader = await fetch(`${setup.pool.issuer}/userinfo`, { method: 'POST', headers: { authorization: `Bearer ${body.access_token}` } });
    expect((await postHeader.json()).sub).toBe(setup.user.id);
    const postBody = await fetch(`${setup.pool.issuer}/userinfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: body.access_token }),
    });
    expect((await postBody.json()).sub).toBe(setup.user.id);
    const none = await fetch(`${setup.pool.issuer}/userinfo`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('oidcc-scope-profile / oidcc-scope-email / oidcc-scope-phone / oidcc-scope-all: claims follow the granted scopes', async () => {
    const setup = await setupPool(tarn);
    const info = async (scope: string) => {
      const { code, verifier } = await codeFor(setup, { scope });
      const { body } = await exchange(setup, code, verifier);
      return (await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } })).json() as any;
    };
    const profile = await info('openid profile');
    expect(profile).toMatchObject({ sub: setup.user.id, name: 'Grace Hopper', family_name: 'Hopper' });
    expect(profile.email).toBeUndefined();
    const email = await info('openid email');
    expect(email).toMatchObject({ email: setup.user.email, email_verified: true });
    expect(email.name).toBeUndefined();
    const phone = await info('openid phone');
    expect(phone.sub).toBe(setup.user.id);
    expect(phone.email).toBeUndefined();
    const all = await info('openid profile email phone address');
    expect(all).toMatchObject({ name: 'Grace Hopper', email: setup.user.email });
  });

  it('oidcc-claims-essential (OIDC Core §5.5): the claims parameter asks for a claim outside the scopes', async () => {
    const setup = await setupPool(tarn);
    const claims = JSON.stringify({ userinfo: { name: { essential: true } }, id_token: { email: null } });
    const { code, verifier } = await codeFor(setup, { scope: 'openid', claims });
    const { body } = await exchange(setup, code, verifier);
    expect(decodeJwt(body.id_token).email).toBe(setup.user.email);
    const info = await (await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } })).json();
    expect(info.name).toBe('Grace Hopper');
    expect(info.family_name).toBeUndefined();
  });
});

describe('Basic OP: client authentication (OIDC Core §9)', () => {
  it('oidcc-server with client_secret_post: the secret in the body authenticates', async () => {
    const setup = await setupPool(tarn, { tokenEndpointAuthMethod: 'client_secret_post' });
    const { code: code2, verifier: verifier2 } = await codeFor(setup);
    const viaPost = await postForm(`${setup.pool.issuer}/token`, {
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier2,
      client_id: setup.app.clientId,
      client_secret: setup.app.secret!.value,
    });
    expect(viaPost.status).toBe(200);
  });

  it('RFC 6749 §5.2: a wrong client secret is invalid_client', async () => {
    const setup = await setupPool(tarn);
    const { code, verifier } = await codeFor(setup);
    const response = await exchange(setup, code, verifier, {}, { clientId: setup.app.clientId, clientSecret: 'tcs_wrong' });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
  });
});
