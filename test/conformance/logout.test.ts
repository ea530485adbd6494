/**
 * RP-Initiated Logout OP and Back-Channel Logout OP certification plans
 * (oidcc-rp-initiated-logout-certification-test-plan, oidcc-backchannel-rp-initiated-logout-
 * certification-test-plan): the end_session endpoint checks post_logout_redirect_uri
 * against the client, ends the session, and POSTs a logout token to the client's
 * back-channel endpoint, here a real HTTP server that verifies it with jose against the
 * pool's JWKS, as a relying party would.
 */
import { createServer, type Server } from 'node:http';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { Browser, visibleText } from '../support/browser.js';
import { REDIRECT_URI } from '../support/fixtures.js';
import { signIn } from '../support/relying-party.js';
import { authorizationUrl, callbackParams, codeRequest, setupPool } from '../support/protocol.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const LOGGED_OUT = 'http://rp.example.test/logged-out';

let tarn: RunningTarn;
let receiver: Server;
let receiverUrl: string;
const received: { contentType: string | undefined; body: string }[] = [];

beforeAll(async () => {
  // The receiver is on loopback, which the deployment must allow (OUTGOING_NETWORKS).
  tarn = await startTarn({ OUTGOING_NETWORKS: 'public,loopback' });
  // The relying party's back-channel logout endpoint (OIDC Back-Channel Logout §2.5).
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/backchannel-logout`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await tarn.close();
});

async function waitForLogoutTokens(count: number): Promise<string[]> {
  for (let attempt = 0; attempt < 50 && received.length < count; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  return received.map((request) => new URLSearchParams(request.body).get('logout_token')!);
}

function endSessionUrl(issuer: string, params: Record<string, string>): string {
  const url = new URL(`${issuer}/session/end`);
  url.search = new URLSearchParams(params).toString();
  return url.href;
}

describe('RP-Initiated Logout OP', () => {
  it('oidcc-rp-initiated-logout: logging out with id_token_hint returns to the registered post_logout_redirect_uri with state, and ends the session', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    const state = oidc.randomState();
    const url = oidc.buildEndSessionUrl(setup.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT, state });
    const confirm = await browser.get(url.href);
    expect(visibleText(confirm.html)).toContain('Sign out?');
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(done.leftTo).toBeDefined();
    const back = new URL(done.leftTo!);
    expect(`${back.origin}${back.pathname}`).toBe(LOGGED_OUT);
    expect(back.searchParams.get('state')).toBe(state);

    // The session is gone: a silent request now needs a login.
    const { params } = await codeRequest(setup.app.clientId, { prompt: 'none' });
    const silent = await browser.get(authorizationUrl(setup.pool.issuer, params));
    expect(callbackParams(silent.leftTo).get('error')).toBe('login_required');
  });

  it('oidcc-rp-initiated-logout-bad-post-logout-redirect-uri / -query-added-to-post-logout-redirect-uri: an unregistered post_logout_redirect_uri gets an error page, never a redirect', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] }, { name: 'Logout Pool' });
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    for (const uri of ['https://attacker.example/bye', `${LOGGED_OUT}?extra=1`]) {
      const page = await browser.get(endSessionUrl(setup.pool.issuer, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: uri }));
      expect(page.leftTo).toBeUndefined();
      expect(page.status).toBe(400);
      expect(visibleText(page.html)).toContain('Logout Pool');
      // Words for people: the application asked to return to an address it did not register.
      expect(visibleText(page.html)).toContain('an address it has not registered');
      expect(visibleText(page.html)).not.toContain('post_logout_redirect_uri');
    }
  });

  it('oidcc-rp-initiated-logout-no-id-token-hint: a post_logout_redirect_uri without id_token_hint is never followed; the user confirms and is signed out', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.get(endSessionUrl(setup.pool.issuer, { post_logout_redirect_uri: LOGGED_OUT }));
    expect(confirm.leftTo).toBeUndefined();
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(done.leftTo).toBeUndefined();
    expect(visibleText(done.html)).toContain('You are signed out');
  });

  it('RP-Initiated Logout §2 (client_id): client_id identifies the client, whose registered post_logout_redirect_uri is then used', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.get(endSessionUrl(setup.pool.issuer, { client_id: setup.app.clientId, post_logout_redirect_uri: LOGGED_OUT, state: 's1' }));
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(new URL(done.leftTo!).searchParams.get('state')).toBe('s1');
  });

  it('oidcc-rp-initiated-logout-no-params: logging out with no parameters ends on the pool\'s "signed out" page', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] }, { name: 'Quiet Pool' });
    const { browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.get(endSessionUrl(setup.pool.issuer, {}));
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(done.leftTo).toBeUndefined();
    expect(visibleText(done.html)).toContain('You are signed out');
    expect(visibleText(done.html)).toContain('Quiet Pool');
  });

  it('oidcc-rp-initiated-logout-bad-id-token-hint: an ID token from another pool is not accepted as id_token_hint', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const other = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { tokens } = await signIn(other.config, tarn.url, other.user);
    const page = await new Browser(tarn.url).get(endSessionUrl(setup.pool.issuer, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT }));
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(400);
  });

  it('oidcc-rp-initiated-logout-no-post-logout-redirect-uri: with id_token_hint but no redirect, the user ends on the signed-out page', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.get(endSessionUrl(setup.pool.issuer, { id_token_hint: tokens.id_token! }));
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(done.leftTo).toBeUndefined();
    expect(visibleText(done.html)).toContain('You are signed out');
  });

  it('oidcc-rp-initiated-logout-no-state: without state the client is redirected without one', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.get(endSessionUrl(setup.pool.issuer, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT }));
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(done.leftTo).toBe(LOGGED_OUT);
  });

  it('RP-Initiated Logout §2: the end_session endpoint accepts POST', async () => {
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT] });
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.navigate('POST', `${setup.pool.issuer}/session/end`, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: LOGGED_OUT,
      state: 'xyz',
    });
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(new URL(done.leftTo!).searchParams.get('state')).toBe('xyz');
  });
});

describe('Back-Channel Logout OP', () => {
  it("oidcc-backchannel-rp-initiated-logout: the client's back-channel endpoint receives a valid logout token for the session", async () => {
    received.length = 0;
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT], backchannelLogoutUri: receiverUrl });
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    const sid = tokens.claims()!.sid as string;
    expect(sid).toBeDefined();
    const confirm = await browser.get(oidc.buildEndSessionUrl(setup.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT }).href);
    const done = await browser.submit(confirm, { logout: 'yes' });
    expect(done.leftTo?.startsWith(LOGGED_OUT)).toBe(true);

    const [logoutToken] = await waitForLogoutTokens(1);
    expect(received[0]!.contentType).toContain('application/x-www-form-urlencoded');
    // Back-Channel Logout §2.6: validate as an ID token (signature, iss, aud, iat), plus events, sid/sub, no nonce.
    expect(decodeProtectedHeader(logoutToken!).typ).toBe('logout+jwt');
    const { payload } = await jwtVerify(logoutToken!, createRemoteJWKSet(new URL(`${setup.pool.issuer}/jwks`)), {
      issuer: setup.pool.issuer,
      audience: setup.app.clientId,
      typ: 'logout+jwt',
    });
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload.sid).toBe(sid);
    expect(payload.sub).toBe(setup.user.id);
    expect(payload.nonce).toBeUndefined();
    expect(typeof payload.jti).toBe('string');
  });

  it('Back-Channel Logout §2.7: a client the user never signed in to receives nothing', async () => {
    received.length = 0;
    // The client signed in to has a back-channel endpoint too: its logout token is the signal
    // that logout notifications went out, and it must be the only one.
    const setup = await setupPool(tarn, { postLogoutRedirectUris: [LOGGED_OUT], backchannelLogoutUri: receiverUrl });
    // A second application in the same pool with a back-channel endpoint, never used in this session.
    const bystander = await tarn.admin('POST', `/pools/${setup.pool.id}/clients`, {
      name: 'Bystander',
      redirectUris: [REDIRECT_URI],
      backchannelLogoutUri: receiverUrl,
    });
    expect(bystander.status).toBe(201);
    const { tokens, browser } = await signIn(setup.config, tarn.url, setup.user);
    const confirm = await browser.get(oidc.buildEndSessionUrl(setup.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT }).href);
    await browser.submit(confirm, { logout: 'yes' });
    const logoutTokens = await waitForLogoutTokens(1);
    const audiences = logoutTokens.map((token) => decodeJwt(token).aud);
    expect(audiences).toEqual([setup.app.clientId]);
  });
});
