/**
 * Tarn's own resource routes (/me, /me/passkeys) take an access token the way a protected
 * resource must (RFC 6750, RFC 9449), with the same check on every route: a DPoP-bound token
 * only with its proof, the scope the route needs, a token meant for the pool itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { Browser, decodeEntities } from '../support/browser.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;

beforeAll(async () => {
  tarn = await startTarn();
});

afterAll(async () => {
  await tarn.close();
});

/** A pool offering passkeys, an application, a user, and the application's configuration. */
async function setUp(clientFields: Record<string, unknown> = {}) {
  const pool = await createPool(tarn, { signIn: { password: true, passkey: true } });
  const app = await createClient(tarn, pool.id, { resources: [{ uri: 'https://api.example.test', scopes: ['read'] }], ...clientFields });
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, app, user, config };
}

/** Signs the user in through the hosted pages (declining the passkey offer) and exchanges the code. */
async function signIn(setup: Awaited<ReturnType<typeof setUp>>, scope: string, options: { DPoP?: oidc.DPoPHandle; resource?: string } = {}) {
  const browser = new Browser(tarn.url);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(setup.config, {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(options.resource ? { resource: options.resource } : {}),
  });
  let page = await browser.get(url.href);
  page = await browser.submit(page, { email: setup.user.email, password: setup.user.password });
  const skip = /href="([^"]*passkey\/skip)"/.exec(page.html);
  if (skip) page = await browser.get(decodeEntities(skip[1]!));
  if (!page.leftTo && page.html.includes('name="decision"')) page = await browser.submit(page, { decision: 'allow' });
  if (!page.leftTo) throw new Error(`the sign-in did not return to the application: ${page.url}`);
  return oidc.authorizationCodeGrant(
    setup.config,
    new URL(page.leftTo),
    { pkceCodeVerifier: verifier, expectedState: state },
    options.resource ? { resource: options.resource } : undefined,
    options.DPoP ? { DPoP: options.DPoP } : undefined,
  );
}

/** A DPoP proof (RFC 9449 §4.2) made with `keys` for one request. */
async function proofFor(keys: CryptoKeyPair, method: string, url: string, accessToken: string): Promise<string> {
  return new SignJWT({ htm: method, htu: url, ath: createHash('sha256').update(accessToken).digest('base64url'), jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .setIssuedAt()
    .sign(keys.privateKey);
}

async function call(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

describe('RFC 9449 §7.2: DPoP-bound access tokens', () => {
  it('refuses a DPoP-bound token presented as a Bearer token at /me and /me/passkeys, and accepts it with its proof', async () => {
    const setup = await setUp();
    const DPoP = oidc.getDPoPHandle(setup.config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await signIn(setup, 'openid', { DPoP });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');

    for (const path of ['/me/passkeys', '/me']) {
      // A stolen token without the key: presented as a bearer token, it is refused.
      const asBearer = await call(`${setup.pool.issuer}${path}`, { authorization: `Bearer ${tokens.access_token}` });
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers.get('content-type')).toContain('application/problem+json');
      expect(asBearer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(JSON.stringify(asBearer.body)).not.toContain(setup.user.email);
      // Under the DPoP scheme without a proof: refused too (RFC 9449 §7.1).
      const noProof = await call(`${setup.pool.issuer}${path}`, { authorization: `DPoP ${tokens.access_token}` });
      expect(noProof.status).toBe(401);
      expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP algs="[^"]+", error="invalid_dpop_proof"/);
    }

    // With the key, through a real client library: served.
    const passkeys = await oidc.fetchProtectedResource(
      setup.config,
      tokens.access_token,
      new URL(`${setup.pool.issuer}/me/passkeys`),
      'GET',
      undefined,
      undefined,
      { DPoP },
    );
    expect(passkeys.status).toBe(200);
    expect(await passkeys.json()).toEqual({ items: [] });
    const me = await oidc.fetchProtectedResource(setup.config, tokens.access_token, new URL(`${setup.pool.issuer}/me`), 'GET', undefined, undefined, { DPoP });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { email: string }).email).toBe(setup.user.email);
  });

  it('refuses a proof used twice, made for another URL, or made with another key', async () => {
    const setup = await setUp();
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(setup.config, keys);
    const tokens = await signIn(setup, 'openid', { DPoP });
    const proof = await proofFor(keys, 'GET', `${setup.pool.issuer}/me`, tokens.access_token);
    expect((await call(`${setup.pool.issuer}/me`, { authorization: `DPoP ${tokens.access_token}`, dpop: proof })).status).toBe(200);
    const replayed = await call(`${setup.pool.issuer}/me`, { authorization: `DPoP ${tokens.access_token}`, dpop: proof });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    const elsewhere = await call(`${setup.pool.issuer}/me/passkeys`, { authorization: `DPoP ${tokens.access_token}`, dpop: proof });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.detail).toContain('another URL');
    const otherKey = await proofFor(await oidc.randomDPoPKeyPair('ES256'), 'GET', `${setup.pool.issuer}/me`, tokens.access_token);
    const stolen = await call(`${setup.pool.issuer}/me`, { authorization: `DPoP ${tokens.access_token}`, dpop: otherKey });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a plain bearer token presented under the DPoP scheme', async () => {
    const setup = await setUp();
    const tokens = await signIn(setup, 'openid');
    const response = await call(`${setup.pool.issuer}/me/passkeys`, { authorization: `DPoP ${tokens.access_token}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^DPoP /);
    expect((await call(`${setup.pool.issuer}/me/passkeys`, { authorization: `Bearer ${tokens.access_token}` })).status).toBe(200);
  });
});

describe('RFC 6750 §3.1: scope and audience', () => {
  it('refuses a user token without the openid scope at /me and /me/passkeys with 403 insufficient_scope', async () => {
    const setup = await setUp();
    const signedIn = await signIn(setup, 'openid email');
    // RFC 6749 §6: a refresh may narrow the scope; the new access token carries "email" only.
    const tokens = await oidc.refreshTokenGrant(setup.config, signedIn.refresh_token!, { scope: 'email' });
    expect(tokens.scope).toBe('email');
    for (const path of ['/me/passkeys', '/me']) {
      const response = await call(`${setup.pool.issuer}${path}`, { authorization: `Bearer ${tokens.access_token}` });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope".*scope="openid"/);
      expect(response.body).toMatchObject({ status: 403, title: 'Insufficient scope' });
    }
  });

  it('refuses a token issued for a resource server (RFC 8707) at /me and /me/passkeys', async () => {
    const setup = await setUp();
    const tokens = await signIn(setup, 'openid read', { resource: 'https://api.example.test' });
    for (const path of ['/me/passkeys', '/me']) {
      const response = await call(`${setup.pool.issuer}${path}`, { authorization: `Bearer ${tokens.access_token}` });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    }
  });

  it('answers a request without a token with both challenges and no error code (RFC 6750 §3.1)', async () => {
    const setup = await setUp();
    const response = await call(`${setup.pool.issuer}/me/passkeys`, {});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer, DPoP algs="/);
    expect(response.headers.get('www-authenticate')).not.toContain('error=');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});
