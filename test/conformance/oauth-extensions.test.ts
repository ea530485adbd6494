/**
 * The OAuth 2.x extensions every pool offers, each against its RFC section: refresh
 * rotation and reuse detection (RFC 9700 §4.14.2), client credentials (RFC 6749 §4.4),
 * introspection (RFC 7662) and revocation (RFC 7009) with pool isolation, pushed
 * authorization requests (RFC 9126), DPoP (RFC 9449), resource indicators with JWT access
 * tokens (RFC 8707, RFC 9068), private_key_jwt (RFC 7523, OIDC Core §9). Driven by
 * openid-client and oauth4webapi; raw HTTP where a request must be wrong.
 */
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { Browser } from '../support/browser.js';
import { createClient, REDIRECT_URI } from '../support/fixtures.js';
import { signIn } from '../support/relying-party.js';
import { authorize, callbackParams, postForm, setupPool } from '../support/protocol.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const API = 'https://api.example.test/orders';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

const insecure = { execute: [oidc.allowInsecureRequests] };

describe('refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2)', () => {
  it('oidcc-refresh-token: rotation issues a new refresh token; reusing the old one revokes the whole family', async () => {
    const setup = await setupPool(tarn);
    const { tokens } = await signIn(setup.config, tarn.url, setup.user);
    const rotated = await oidc.refreshTokenGrant(setup.config, tokens.refresh_token!);
    expect(rotated.refresh_token).toBeDefined();
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    // OIDC Core §12.2: the refreshed ID token is about the same user.
    expect(rotated.claims()!.sub).toBe(setup.user.id);
    expect((await oidc.tokenIntrospection(setup.config, rotated.access_token)).active).toBe(true);

    // An attacker replays the old refresh token: refused, and the rotated family dies with it.
    await expect(oidc.refreshTokenGrant(setup.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(setup.config, rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(setup.config, rotated.access_token)).active).toBe(false);
    expect((await oidc.tokenIntrospection(setup.config, tokens.access_token)).active).toBe(false);
  });

  it('RFC 6749 §6: a refresh token is bound to its client', async () => {
    const setup = await setupPool(tarn);
    const other = await createClient(tarn, setup.pool.id, { name: 'Other' });
    const { tokens } = await signIn(setup.config, tarn.url, setup.user);
    const stolen = await postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      { clientId: other.clientId, clientSecret: other.secret?.value },
    );
    expect(stolen.body.error).toBe('invalid_grant');
  });
});

describe('client credentials (RFC 6749 §4.4)', () => {
  it('RFC 6749 §4.4: a confidential client gets an access token for itself, without refresh or ID token', async () => {
    const setup = await setupPool(tarn, { grantTypes: ['client_credentials'], redirectUris: [] });
    const tokens = await oidc.clientCredentialsGrant(setup.config);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    const info = await oidc.tokenIntrospection(setup.config, tokens.access_token);
    expect(info).toMatchObject({ active: true, client_id: setup.app.clientId });
    expect(info.sub).toBeUndefined();
  });

  // RFC 6749 §5.2 names this unauthorized_client; oidc-provider answers invalid_request (docs/conformance.md).
  it('RFC 6749 §4.4, §5.2: a client without the grant is refused', async () => {
    const setup = await setupPool(tarn);
    const response = await postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'client_credentials' },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
    );
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
  });
});

describe('introspection (RFC 7662) and revocation (RFC 7009)', () => {
  it('RFC 7009 §2.1 / RFC 7662 §2.2: a revoked access token introspects as active: false', async () => {
    const setup = await setupPool(tarn);
    const { tokens } = await signIn(setup.config, tarn.url, setup.user);
    const active = await oidc.tokenIntrospection(setup.config, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: setup.app.clientId, sub: setup.user.id, iss: setup.pool.issuer, token_type: 'Bearer' });
    expect(active.scope?.split(' ')).toContain('openid');
    await oidc.tokenRevocation(setup.config, tokens.access_token);
    expect(await oidc.tokenIntrospection(setup.config, tokens.access_token)).toEqual({ active: false });
    expect((await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
  });

  it("RFC 7009 §2.1: revoking a refresh token revokes it (and its grant's access tokens)", async () => {
    const setup = await setupPool(tarn);
    const { tokens } = await signIn(setup.config, tarn.url, setup.user);
    expect((await oidc.tokenIntrospection(setup.config, tokens.refresh_token!)).active).toBe(true);
    await oidc.tokenRevocation(setup.config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect((await oidc.tokenIntrospection(setup.config, tokens.refresh_token!)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(setup.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(setup.config, tokens.access_token)).active).toBe(false);
  });

  it('RFC 7009 §2.2: revoking an unknown token answers 200; introspecting garbage answers active: false', async () => {
    const setup = await setupPool(tarn);
    const auth = { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value };
    expect((await postForm(`${setup.pool.issuer}/token/revocation`, { token: 'not-a-token' }, auth)).status).toBe(200);
    expect((await postForm(`${setup.pool.issuer}/token/introspection`, { token: 'not-a-token' }, auth)).body).toEqual({ active: false });
    // RFC 7662 §2.1: the caller must authenticate.
    expect((await postForm(`${setup.pool.issuer}/token/introspection`, { token: 'x' })).status).toBe(400);
  });

  it('pool isolation: tokens of pool A are inactive at pool B, and revoking them at B changes nothing at A', async () => {
    const a = await setupPool(tarn);
    const b = await setupPool(tarn);
    const { tokens } = await signIn(a.config, tarn.url, a.user);
    expect(await oidc.tokenIntrospection(b.config, tokens.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(b.config, tokens.refresh_token!)).toEqual({ active: false });
    expect((await fetch(`${b.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    await oidc.tokenRevocation(b.config, tokens.access_token);
    expect((await oidc.tokenIntrospection(a.config, tokens.access_token)).active).toBe(true);
    // A's client is unknown at B.
    const response = await postForm(
      `${b.pool.issuer}/token/introspection`,
      { token: tokens.access_token },
      { clientId: a.app.clientId, clientSecret: a.app.secret?.value },
    );
    expect(response.body.error).toBe('invalid_client');
  });
});

describe('pushed authorization requests (RFC 9126)', () => {
  it('RFC 9126 §2, §4: a pushed request is used by request_uri, once', async () => {
    const setup = await setupPool(tarn);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(setup.config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const browser = new Browser(tarn.url);
    const page = await authorize(browser, url.href, setup.user);
    const tokens = await oidc.authorizationCodeGrant(setup.config, new URL(page.leftTo!), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()!.sub).toBe(setup.user.id);

    // RFC 9126 §4: single use. The same request_uri again yields no code.
    const again = await new Browser(tarn.url).get(url.href);
    const code = again.leftTo ? callbackParams(again.leftTo).get('code') : null;
    expect(code).toBeNull();
    if (again.leftTo) expect(callbackParams(again.leftTo).get('error')).toBe('invalid_request_uri');
    else expect(again.status).toBe(400);
  });

  it('RFC 9126 §2.1: the pushed request is authenticated and validated at once', async () => {
    const setup = await setupPool(tarn);
    const unauthenticated = await postForm(`${setup.pool.issuer}/request`, {
      client_id: setup.app.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
    });
    expect(unauthenticated.status).toBe(401);
    const badRedirect = await postForm(
      `${setup.pool.issuer}/request`,
      { client_id: setup.app.clientId, response_type: 'code', redirect_uri: 'https://attacker.example/cb', scope: 'openid' },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
    );
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.body.error).toBe('invalid_request');
    expect(badRedirect.body.error_description).toContain('redirect_uri');
  });
});

describe('DPoP (RFC 9449)', () => {
  it('RFC 9449 §7.1: a DPoP-bound access token is refused without its proof and accepted with it', async () => {
    const setup = await setupPool(tarn);
    const DPoP = oidc.getDPoPHandle(setup.config, await oidc.randomDPoPKeyPair('ES256'));
    const browser = new Browser(tarn.url);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(setup.config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const page = await authorize(browser, url.href, setup.user);
    const tokens = await oidc.authorizationCodeGrant(setup.config, new URL(page.leftTo!), { pkceCodeVerifier: verifier, expectedState: state }, undefined, {
      DPoP,
    });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');

    const info = await oidc.fetchUserInfo(setup.config, tokens.access_token, setup.user.id, { DPoP });
    expect(info.sub).toBe(setup.user.id);
    // Stolen token, no proof: refused whether presented as Bearer or as DPoP.
    const asBearer = await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(asBearer.status).toBe(401);
    const noProof = await fetch(`${setup.pool.issuer}/userinfo`, { headers: { authorization: `DPoP ${tokens.access_token}` } });
    // RFC 9449 §7.1: refused with a DPoP challenge (oidc-provider answers 400 invalid_request here, see docs/conformance.md).
    expect(noProof.status).toBe(400);
    expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_request"/);
    // RFC 9449 §6.2: introspection shows the key binding.
    const introspected = await oidc.tokenIntrospection(setup.config, tokens.access_token);
    expect(introspected.token_type).toBe('DPoP');
    expect((introspected.cnf as { jkt?: string }).jkt).toBeDefined();
    // The refresh token of a confidential client is not key-bound (§5), but the new access token is.
    const refreshed = await oidc.refreshTokenGrant(setup.config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type.toLowerCase()).toBe('dpop');
  });

  it('RFC 9449 §5.2: a client registered with dpopBoundAccessTokens cannot get a token without a proof', async () => {
    const setup = await setupPool(tarn, { grantTypes: ['client_credentials'], redirectUris: [], dpopBoundAccessTokens: true });
    await expect(oidc.clientCredentialsGrant(setup.config)).rejects.toMatchObject({ error: 'invalid_grant' });
    const DPoP = oidc.getDPoPHandle(setup.config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(setup.config, undefined, { DPoP });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });

  it('RFC 9449 §4.3: a malformed proof is refused with invalid_dpop_proof', async () => {
    const setup = await setupPool(tarn, { grantTypes: ['client_credentials'], redirectUris: [] });
    const response = await postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'client_credentials' },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
      { dpop: 'not.a.jwt' },
    );
    expect(response.body.error).toBe('invalid_dpop_proof');
  });
});

describe('resource indicators and JWT access tokens (RFC 8707, RFC 9068)', () => {
  it("RFC 9068 §2: a token for a registered resource is a JWT (typ at+jwt) the API verifies with the pool's JWKS", async () => {
    const setup = await setupPool(tarn, {
      grantTypes: ['client_credentials'],
      redirectUris: [],
      resources: [{ uri: API, scopes: ['orders:read', 'orders:write'] }],
    });
    const tokens = await oidc.clientCredentialsGrant(setup.config, { resource: API, scope: 'orders:read' });
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${setup.pool.issuer}/jwks`)), {
      issuer: setup.pool.issuer,
      audience: API,
      typ: 'at+jwt',
    });
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope as granted.
    expect(payload).toMatchObject({ client_id: setup.app.clientId, scope: 'orders:read', sub: setup.app.clientId });
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.exp).toBe('number');
  });

  it('RFC 8707 §2: a resource the client has not registered is invalid_target; scopes beyond the list are dropped', async () => {
    const setup = await setupPool(tarn, { grantTypes: ['client_credentials'], redirectUris: [], resources: [{ uri: API, scopes: ['orders:read'] }] });
    await expect(oidc.clientCredentialsGrant(setup.config, { resource: 'https://other.example.test/api' })).rejects.toMatchObject({ error: 'invalid_target' });
    const tokens = await oidc.clientCredentialsGrant(setup.config, { resource: API, scope: 'orders:read orders:delete' });
    expect(tokens.scope).toBe('orders:read');
  });

  it('RFC 8707 §2.1-2.2 with the code flow: the user consents to the API scopes; the code is exchanged for a JWT for that API', async () => {
    const setup = await setupPool(tarn, { resources: [{ uri: API, scopes: ['orders:read'] }] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(setup.config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid orders:read',
      resource: API,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const browser = new Browser(tarn.url);
    let page = await browser.get(url.href);
    page = await browser.submit(page, { email: setup.user.email, password: setup.user.password });
    expect(page.html).toContain('orders:read');
    page = await browser.submit(page, { decision: 'allow' });
    const tokens = await oidc.authorizationCodeGrant(
      setup.config,
      new URL(page.leftTo!),
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource: API },
    );
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${setup.pool.issuer}/jwks`)), {
      issuer: setup.pool.issuer,
      audience: API,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ sub: setup.user.id, scope: 'orders:read', client_id: setup.app.clientId });
  });
});

describe('client authentication with private_key_jwt (RFC 7523 §2.2, OIDC Core §9)', () => {
  it('RFC 7523 §2.2, §3 / OIDC Core §9 (private_key_jwt): a client holding the private key of its registered JWKS authenticates with a signed assertion', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'app-key-1', alg: 'ES256', use: 'sig' };
    const setup = await setupPool(tarn, {
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [jwk] },
      grantTypes: ['client_credentials'],
      redirectUris: [],
    });
    expect(setup.app.secret?.value).toBeUndefined();
    const config = await oidc.discovery(
      new URL(setup.pool.issuer),
      setup.app.clientId,
      undefined,
      oidc.PrivateKeyJwt({ key: privateKey, kid: 'app-key-1' }),
      insecure,
    );
    const tokens = await oidc.clientCredentialsGrant(config);
    expect(tokens.access_token).toBeDefined();

    // Someone else's key does not authenticate.
    const stranger = await generateKeyPair('ES256', { extractable: true });
    const forged = await oidc.discovery(
      new URL(setup.pool.issuer),
      setup.app.clientId,
      undefined,
      oidc.PrivateKeyJwt({ key: stranger.privateKey, kid: 'app-key-1' }),
      insecure,
    );
    await expect(oidc.clientCredentialsGrant(forged)).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

describe('oauth4webapi as the relying party', () => {
  it('RFC 8414 / OIDC Discovery: oauth4webapi discovers a pool and runs the client credentials grant', async () => {
    const setup = await setupPool(tarn, { grantTypes: ['client_credentials'], redirectUris: [] });
    const issuer = new URL(setup.pool.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
    const client: oauth.Client = { client_id: setup.app.clientId };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(setup.app.secret!.value), new URLSearchParams(), {
      [oauth.allowInsecureRequests]: true,
    });
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.access_token).toBeDefined();
  });
});
