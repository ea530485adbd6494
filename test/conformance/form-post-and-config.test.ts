/**
 * Form Post OP (oidcc-formpost-basic-certification-test-plan: the Basic OP modules with
 * response_mode=form_post, OAuth 2.0 Form Post Response Mode §2) and Config OP
 * (oidcc-config-certification-test-plan: oidcc-discovery-endpoint-verification, the JWKS).
 * The form_post page is also run in a real Chromium: its one inline script must be allowed
 * by the CSP (by hash) and post the response to the client.
 */
import type { Browser as Chromium } from 'playwright-core';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { Browser, decodeEntities } from '../support/browser.js';
import { launchChromium } from '../support/chromium.js';
import { createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { authorizationUrl, authorize, codeRequest, postForm, setupPool } from '../support/protocol.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let chromium: Chromium;
beforeAll(async () => {
  tarn = await startTarn();
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  await tarn.close();
});

/** The auto-submitting form of a form_post response: where it posts and what. */
function formPostOf(html: string): { action: string; fields: Record<string, string> } {
  const action = decodeEntities(/<form method="post" action="([^"]+)"/.exec(html)![1]!);
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]));
  return { action, fields };
}

describe('Form Post OP (OAuth 2.0 Form Post Response Mode)', () => {
  it('oidcc-server (form_post): the code and state are POSTed to the redirect_uri by an auto-submitting form', async () => {
    const setup = await setupPool(tarn);
    const { params, verifier } = await codeRequest(setup.app.clientId, { response_mode: 'form_post' });
    const page = await authorize(new Browser(tarn.url), authorizationUrl(setup.pool.issuer, params), setup.user);
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(200);
    const { action, fields } = formPostOf(page.html);
    expect(action).toBe(REDIRECT_URI);
    expect(fields.state).toBe(params.state);
    expect(fields.iss).toBe(setup.pool.issuer);
    expect(Object.keys(fields)).not.toContain('id_token');
    // The script that submits the form is allowed by hash, nothing else inline is.
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    const response = await postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'authorization_code', code: fields.code!, redirect_uri: REDIRECT_URI, code_verifier: verifier },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
    );
    expect(response.status).toBe(200);
    expect(response.body.id_token).toBeDefined();
  });

  it('oidcc-prompt-none-not-logged-in (form_post): errors are form-posted too', async () => {
    const setup = await setupPool(tarn);
    const { params } = await codeRequest(setup.app.clientId, { response_mode: 'form_post', prompt: 'none' });
    const page = await new Browser(tarn.url).get(authorizationUrl(setup.pool.issuer, params));
    const { action, fields } = formPostOf(page.html);
    expect(action).toBe(REDIRECT_URI);
    expect(fields).toMatchObject({ error: 'login_required', state: params.state });
  });

  it("oidcc-server (form_post) in a real browser: the page posts the code to the client under Tarn's CSP", async () => {
    const pool = await createPool(tarn);
    const app = await tarn.admin('POST', `/pools/${pool.id}/clients`, { name: 'Form App', redirectUris: [REDIRECT_URI] });
    const user = await createUser(tarn, pool.id);
    const config = await discover(pool.issuer, app.body.clientId, app.body.secret.value);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      response_mode: 'form_post',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const context = await chromium.newContext();
    const posted: { method: string; body: string | null }[] = [];
    await context.route(`${REDIRECT_URI}**`, async (route) => {
      posted.push({ method: route.request().method(), body: route.request().postData() });
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>rp</title><p>received</p>' });
    });
    const page = await context.newPage();
    await page.goto(url.href);
    await page.fill('input[name=email]', user.email);
    await page.fill('input[name=password]', user.password);
    await page.click('button[type=submit]');
    await page.click('button[value=allow]');
    await page.waitForURL(REDIRECT_URI);
    await context.close();
    expect(posted).toHaveLength(1);
    expect(posted[0]!.method).toBe('POST');
    const body = new URLSearchParams(posted[0]!.body!);
    expect(body.get('state')).toBe(state);
    // openid-client reads the form_post body as the callback (it takes a Request).
    const request = new Request(REDIRECT_URI, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: posted[0]!.body! });
    const tokens = await oidc.authorizationCodeGrant(config, request, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()!.sub).toBe(user.id);
  });
});

describe('Config OP (OpenID Connect Discovery 1.0)', () => {
  it('oidcc-discovery-endpoint-verification: the document names the pool as issuer and lists exactly what the pool offers', async () => {
    const pool = await createPool(tarn);
    const response = await fetch(`${pool.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const metadata = await response.json();
    // Discovery §4.3: issuer identical to the URL the document was fetched from, minus the well-known suffix.
    expect(metadata.issuer).toBe(pool.issuer);
    for (const endpoint of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'end_session_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
      'device_authorization_endpoint',
      'pushed_authorization_request_endpoint',
    ]) {
      expect(metadata[endpoint]).toMatch(new RegExp(`^${pool.issuer}/`));
    }
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.response_modes_supported.sort()).toEqual(['form_post', 'fragment', 'query']);
    expect(metadata.grant_types_supported.sort()).toEqual([
      'authorization_code',
      'client_credentials',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]);
    expect(metadata.token_endpoint_auth_methods_supported.sort()).toEqual(['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.subject_types_supported).toEqual(['public']);
    expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'auth_time', 'email', 'name']));
    expect(metadata.claims_parameter_supported).toBe(true);
    expect(metadata.request_parameter_supported ?? false).toBe(false);
    expect(metadata.request_uri_parameter_supported).toBe(false);
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.backchannel_logout_session_supported).toBe(true);
    expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    // Not offered, so not advertised: implicit/hybrid, request objects, front-channel logout, CIBA, mTLS.
    expect(metadata.frontchannel_logout_supported).toBeUndefined();
    expect(metadata.backchannel_authentication_endpoint).toBeUndefined();
    expect(metadata.tls_client_certificate_bound_access_tokens).toBeUndefined();
    expect(metadata.registration_endpoint).toBeUndefined();
  });

  it("oidcc-discovery-issuer-not-matching-config: each pool's document names exactly its own issuer, which RPs check", async () => {
    const a = await setupPool(tarn);
    const b = await createPool(tarn);
    expect(a.config.serverMetadata().issuer).toBe(a.pool.issuer);
    // oauth4webapi, configured for pool B but served pool A's document, refuses it (Discovery §4.3).
    const served = await fetch(`${a.pool.issuer}/.well-known/openid-configuration`);
    await expect(oauth.processDiscoveryResponse(new URL(b.issuer), served)).rejects.toThrow(/issuer/);
    const own = await oauth.discoveryRequest(new URL(b.issuer), { [oauth.allowInsecureRequests]: true });
    expect((await oauth.processDiscoveryResponse(new URL(b.issuer), own)).issuer).toBe(b.issuer);
  });

  it('oidcc-server (JWKS): the pool publishes its signing keys with kid, alg and use, and no private parts', async () => {
    const pool = await createPool(tarn);
    const jwks = await (await fetch(`${pool.issuer}/jwks`)).json();
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    for (const key of jwks.keys) {
      expect(key.kid).toBeDefined();
      expect(key.use).toBe('sig');
      expect(['RS256', 'ES256']).toContain(key.alg);
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key[secret]).toBeUndefined();
    }
    const keys = await tarn.admin('GET', `/pools/${pool.id}/keys`);
    const published = keys.body.items
      .filter((key: { published: boolean }) => key.published)
      .map((key: { kid: string }) => key.kid)
      .sort();
    expect(jwks.keys.map((key: { kid: string }) => key.kid).sort()).toEqual(published);
  });

  it('pool isolation in discovery: two pools have different issuers and key sets', async () => {
    const a = await createPool(tarn);
    const b = await createPool(tarn);
    const [ma, mb] = await Promise.all([a, b].map(async (pool) => (await fetch(`${pool.issuer}/.well-known/openid-configuration`)).json() as any));
    expect(ma.issuer).not.toBe(mb.issuer);
    const [ka, kb] = await Promise.all([a, b].map(async (pool) => (await (await fetch(`${pool.issuer}/jwks`)).json()).keys.map((k: { kid: string }) => k.kid)));
    expect(ka.filter((kid: string) => kb.includes(kid))).toEqual([]);
  });
});
