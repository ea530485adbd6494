/**
 * Signing in at one pool through another pool of a Tarn reached over HTTP (pool-to-pool
 * federation; docs/adr/0900). The upstream is a real OpenID provider: its discovery, JWKS,
 * token endpoint and hosted login. The downstream relying party (openid-client) ends with
 * an ID token whose `sub` is the downstream user's, never the upstream's.
 */
import type * as oidc from 'openid-client';
import { Browser, decodeEntities, visibleText, type Page } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, finishAuthorization, startAuthorization } from '../support/relying-party.js';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { identityTokenContext, type StoredUpstreamTokens } from '../../src/connections/federation.service.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
  // The upstream pool is on this machine: loopback must be allowed deliberately.
  tarn = await startTarn({ OUTGOING_NETWORKS: 'loopback', SMTP_URL: mailbox.url });
});
afterAll(async () => {
  await tarn.close();
  await mailbox?.close();
});

interface Federation {
  upstream: { id: string; issuer: string };
  downstream: { id: string; issuer: string };
  rp: oidc.Configuration;
  upstreamUser: { id: string; email: string; password: string };
}

/** An upstream pool with a user and an application for the downstream pool, and a downstream pool connected to it. */
async function federate(connection: Record<string, unknown> = {}, upstreamUserFields: Record<string, unknown> = {}): Promise<Federation> {
  const upstream = await createPool(tarn);
  const downstream = await createPool(tarn);
  const callback = `${tarn.url}/pools/${downstream.id}/connections/upstream/callback`;
  const link = await createClient(tarn, upstream.id, { name: 'Downstream Tarn', redirectUris: [callback] });
  const created = await tarn.admin('POST', `/pools/${downstream.id}/connections`, {
    name: 'upstream',
    type: 'oidc',
    displayName: 'Partner',
    issuer: upstream.issuer,
    clientId: link.clientId,
    clientSecret: link.secret?.value,
    ...connection,
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  expect(created.body.callbackUrl).toBe(callback);
  const app = await createClient(tarn, downstream.id);
  const rp = await discover(downstream.issuer, app.clientId, app.secret?.value);
  const upstreamUser = await createUser(tarn, upstream.id, { emailVerified: true, ...upstreamUserFields });
  return { upstream, downstream, rp, upstreamUser };
}

/** Starts at the relying party, chooses the connection on the downstream login page, signs in upstream. */
async function signInUpstream(f: Federation, browser = new Browser(tarn.url)) {
  const start = await startAuthorization(f.rp, browser);
  expect(visibleText(start.page.html)).toContain('Continue with Partner');
  const button = /<a[^>]*href="([^"]*)"[^>]*>[^<]*Continue with Partner/.exec(start.page.html)!;
  let page: Page & { leftTo?: string } = await browser.get(decodeEntities(button[1]!));
  expect(page.url).toContain(`/pools/${f.upstream.id}/interaction/`);
  page = await browser.submit(page, { email: f.upstreamUser.email, password: f.upstreamUser.password });
  for (let steps = 0; steps < 3 && !page.leftTo && page.html.includes('name="decision"'); steps += 1) page = await browser.submit(page, { decision: 'allow' });
  return { page, start, browser };
}

async function downstreamUserByEmail(poolId: string, email: string) {
  const list = await tarn.admin('GET', `/pools/${poolId}/users?email=${encodeURIComponent(email)}`);
  return list.body.items[0] as { id: string; email: string; status: string; emailVerified: boolean; profile: Record<string, unknown> } | undefined;
}

describe('pool-to-pool federation', () => {
  it("provisions a user just in time and the relying party gets the downstream user's sub", async () => {
    const f = await federate({ claimMapping: { profile: { name: 'name' } } }, { profile: { name: 'Ada Lovelace' } });
    const { page, start } = await signInUpstream(f);
    const { tokens } = await finishAuthorization(f.rp, page.leftTo, start);
    const claims = tokens.claims()!;

    const user = await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email);
    expect(user).toMatchObject({ status: 'active', emailVerified: true, profile: { name: 'Ada Lovelace' } });
    expect(claims.sub).toBe(user!.id);
    expect(claims.sub).not.toBe(f.upstreamUser.id);
    expect(claims.iss).toBe(f.downstream.issuer);

    const identities = await tarn.admin('GET', `/pools/${f.downstream.id}/users/${user!.id}/identities`);
    expect(identities.body.items).toEqual([expect.objectContaining({ connection: 'upstream', subject: f.upstreamUser.id })]);

    // A second sign-in finds the same user through the linked identity.
    const again = await signInUpstream(f);
    const second = await finishAuthorization(f.rp, again.page.leftTo, again.start);
    expect(second.tokens.claims()!.sub).toBe(user!.id);
  });

  it('a relying party picks a hidden connection with idp=<name>, skipping the login page', async () => {
    const f = await federate({ hidden: true });
    const browser = new Browser(tarn.url);
    const plain = await startAuthorization(f.rp, new Browser(tarn.url));
    expect(visibleText(plain.page.html)).not.toContain('Continue with Partner');
    const start = await startAuthorization(f.rp, browser, { params: { idp: 'upstream' } });
    expect(start.page.url).toContain(`/pools/${f.upstream.id}/interaction/`);
    let page: Page & { leftTo?: string } = await browser.submit(start.page, { email: f.upstreamUser.email, password: f.upstreamUser.password });
    for (let steps = 0; steps < 3 && !page.leftTo && page.html.includes('name="decision"'); steps += 1)
      page = await browser.submit(page, { decision: 'allow' });
    const { tokens } = await finishAuthorization(f.rp, page.leftTo, start);
    const user = await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email);
    expect(tokens.claims()!.sub).toBe(user!.id);
  });

  it('links to an existing user with the same verified email only after that user proves the account', async () => {
    const f = await federate();
    const existing = await createUser(tarn, f.downstream.id, { email: f.upstreamUser.email });
    const { page, start, browser } = await signInUpstream(f);
    // Back from the upstream: not signed in, asked for the existing account's password.
    expect(page.leftTo).toBeUndefined();
    expect(page.url).toMatch(/\/connection\/upstream\/link$/);
    expect(visibleText(page.html)).toContain(`An account for ${existing.email} already exists here`);
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);

    const wrong = await browser.submit(page, { password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.leftTo).toBeUndefined();
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);

    let proven = await browser.submit(wrong, { password: existing.password });
    // The downstream asks this user's consent for the relying party, as for any first sign-in.
    if (!proven.leftTo && proven.html.includes('name="decision"')) proven = await browser.submit(proven, { decision: 'allow' });
    const { tokens } = await finishAuthorization(f.rp, proven.leftTo, start);
    expect(tokens.claims()!.sub).toBe(existing.id);
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([
      expect.objectContaining({ connection: 'upstream', subject: f.upstreamUser.id }),
    ]);

    // Linked: the next upstream sign-in needs no password here.
    const again = await signInUpstream(f);
    expect((await finishAuthorization(f.rp, again.page.leftTo, again.start)).tokens.claims()!.sub).toBe(existing.id);
  });

  it('links after the existing user proves the account with a code mailed to its address', async () => {
    const f = await federate();
    const existing = await createUser(tarn, f.downstream.id, { email: f.upstreamUser.email });
    const { page, start, browser } = await signInUpstream(f);
    expect(page.url).toMatch(/\/connection\/upstream\/link$/);
    const asked = await browser.submit(page, {}, '/link/email');
    expect(asked.status).toBe(200);
    expect(visibleText(asked.html)).toContain(`We sent a 6-digit code to ${existing.email}`);
    const code = codeIn(await mailbox.next(existing.email));
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);

    let proven = await browser.submit(asked, { code }, '/link/email/verify');
    if (!proven.leftTo && proven.html.includes('name="decision"')) proven = await browser.submit(proven, { decision: 'allow' });
    const { tokens } = await finishAuthorization(f.rp, proven.leftTo, start);
    expect(tokens.claims()!.sub).toBe(existing.id);
    expect(tokens.claims()!.amr).toEqual(expect.arrayContaining(['fed', 'otp']));
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([
      expect.objectContaining({ connection: 'upstream', subject: f.upstreamUser.id }),
    ]);
  });

  it('refuses a wrong link code, and past the attempt limit the right code too', async () => {
    const f = await federate();
    // A lockout far above the code's own bound: what refuses the right code below is the code's attempt limit.
    const patched = await tarn.admin('PATCH', `/pools/${f.downstream.id}`, { lockout: { maxAttempts: 50, windowSeconds: 900 } });
    expect(patched.status).toBe(200);
    const existing = await createUser(tarn, f.downstream.id, { email: f.upstreamUser.email });
    const { page, browser } = await signInUpstream(f);
    const asked = await browser.submit(page, {}, '/link/email');
    const code = codeIn(await mailbox.next(existing.email));
    const wrongCode = code === '000000' ? '000001' : '000000';
    let last = asked;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      last = await browser.submit(last, { code: wrongCode }, '/link/email/verify');
      expect(last.status).toBe(401);
      expect(last.leftTo).toBeUndefined();
      expect(visibleText(last.html)).toContain('That code is wrong or has expired');
    }
    const tooLate = await browser.submit(last, { code }, '/link/email/verify');
    expect(tooLate.status).toBe(401);
    expect(tooLate.leftTo).toBeUndefined();
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);
    const audit = await tarn.admin('GET', `/pools/${f.downstream.id}/audit`);
    expect(JSON.stringify(audit.body)).toContain('link_proof_failed');
  });

  it("keeps the upstream's tokens sealed only where the connection says so, never answers them, and forgets them on unlinking", async () => {
    const identityRow = (poolId: string) =>
      tarn.database.handle.db.selectFrom('linked_identities').selectAll().where('pool_id', '=', poolId).executeTakeFirstOrThrow();

    // By default nothing of the upstream's tokens is kept.
    const plain = await federate();
    const first = await signInUpstream(plain);
    await finishAuthorization(plain.rp, first.page.leftTo, first.start);
    expect((await identityRow(plain.downstream.id)).tokens_enc).toBeNull();

    const f = await federate({ storeTokens: true });
    const connection = (await tarn.admin('GET', `/pools/${f.downstream.id}/connections`)).body.items[0];
    expect(connection.storeTokens).toBe(true);
    const { page, start } = await signInUpstream(f);
    await finishAuthorization(f.rp, page.leftTo, start);
    const row = await identityRow(f.downstream.id);
    expect(row.tokens_enc).toEqual(expect.any(String));
    // Sealed, bound to this identity: it opens with the deployment's key under this identity's context only.
    const envelope = createEnvelope(tarn.config.masterKey);
    const stored = JSON.parse(envelope.open(row.tokens_enc!, identityTokenContext(f.downstream.id, row.connection_id, row.subject))) as StoredUpstreamTokens;
    expect(stored.accessToken!.length).toBeGreaterThan(10);
    expect(row.tokens_enc).not.toContain(stored.accessToken);
    // The upstream's ID token names the upstream user: the stored one is the upstream's, not Tarn's own.
    expect(JSON.parse(Buffer.from(stored.idToken!.split('.')[1]!, 'base64url').toString()).sub).toBe(f.upstreamUser.id);
    expect(() => envelope.open(row.tokens_enc!, identityTokenContext(f.downstream.id, row.connection_id, 'another-subject'))).toThrow();

    // No admin answer carries them.
    const identities = await tarn.admin('GET', `/pools/${f.downstream.id}/users/${row.user_id}/identities`);
    const user = await tarn.admin('GET', `/pools/${f.downstream.id}/users/${row.user_id}`);
    for (const body of [identities.body, user.body, connection]) {
      expect(JSON.stringify(body)).not.toContain(stored.accessToken);
      expect(JSON.stringify(body)).not.toContain(row.tokens_enc!.slice(0, 40));
    }

    // Turning storeTokens off forgets what was kept.
    expect((await tarn.admin('PATCH', `/pools/${f.downstream.id}/connections/${connection.id}`, { storeTokens: false })).status).toBe(200);
    expect((await identityRow(f.downstream.id)).tokens_enc).toBeNull();
    expect((await tarn.admin('PATCH', `/pools/${f.downstream.id}/connections/${connection.id}`, { storeTokens: true })).status).toBe(200);
    const again = await signInUpstream(f);
    await finishAuthorization(f.rp, again.page.leftTo, again.start);
    expect((await identityRow(f.downstream.id)).tokens_enc).toEqual(expect.any(String));

    // Unlinking deletes the identity and the tokens with it.
    expect((await tarn.admin('DELETE', `/pools/${f.downstream.id}/users/${row.user_id}/identities/upstream`)).status).toBe(204);
    expect(await tarn.database.handle.db.selectFrom('linked_identities').selectAll().where('pool_id', '=', f.downstream.id).execute()).toEqual([]);
  });

  it('never signs in or links on the email alone: without the proof the sign-in goes nowhere', async () => {
    const f = await federate();
    const existing = await createUser(tarn, f.downstream.id, { email: f.upstreamUser.email });
    const { page, browser } = await signInUpstream(f);
    expect(page.url).toMatch(/\/link$/);
    // A forged form without the interaction's CSRF token, or a replayed link page in another browser, links nothing.
    const stranger = new Browser(tarn.url);
    const elsewhere = await stranger.get(new URL(page.url).pathname);
    expect(elsewhere.leftTo).toBeUndefined();
    expect(elsewhere.status).toBeGreaterThanOrEqual(400);
    const noCsrf = await browser.request('POST', page.url, { password: existing.password });
    expect(noCsrf.status).toBeGreaterThanOrEqual(400);
    expect(noCsrf.headers.get('location')).toBeNull();
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);
  });

  it('an unverified upstream email never links, even with proof offered', async () => {
    const f = await federate({}, { emailVerified: false });
    const existing = await createUser(tarn, f.downstream.id, { email: f.upstreamUser.email });
    const { page } = await signInUpstream(f);
    expect(page.status).toBe(409);
    expect(visibleText(page.html)).toContain('cannot be linked to it automatically');
    expect(page.html).not.toContain('name="password"');
    expect((await tarn.admin('GET', `/pools/${f.downstream.id}/users/${existing.id}/identities`)).body.items).toEqual([]);
    const audit = await tarn.admin('GET', `/pools/${f.downstream.id}/audit`);
    expect(JSON.stringify(audit.body)).toContain('proof_required');
  });

  it('with existing users only, an unknown upstream user gets a branded refusal and no account', async () => {
    const f = await federate({ provisioning: 'existing_users_only' });
    const { page } = await signInUpstream(f);
    expect(page.status).toBe(403);
    expect(visibleText(page.html)).toContain('There is no account here for this identity');
    expect(await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email)).toBeUndefined();
  });

  it('a tampered state is a branded page, not a sign-in', async () => {
    const f = await federate();
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(f.rp, browser);
    const uid = /\/interaction\/([^/?"]+)/.exec(start.page.url)![1]!;
    const toUpstream = await browser.request('GET', `/pools/${f.downstream.id}/interaction/${uid}/connection/upstream`);
    const upstreamUrl = new URL(toUpstream.headers.get('location')!);
    expect(upstreamUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(upstreamUrl.searchParams.get('nonce')).toBeTruthy();
    upstreamUrl.searchParams.set('state', 'forged-state');
    let page: Page & { leftTo?: string } = await browser.get(upstreamUrl.href);
    page = await browser.submit(page, { email: f.upstreamUser.email, password: f.upstreamUser.password });
    for (let steps = 0; steps < 3 && !page.leftTo && page.html.includes('name="decision"'); steps += 1)
      page = await browser.submit(page, { decision: 'allow' });
    expect(page.url).toContain(`/pools/${f.downstream.id}/connections/upstream/callback`);
    expect(page.status).toBe(400);
    expect(visibleText(page.html)).toContain('Sign-in expired');
    expect(await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email)).toBeUndefined();
  });

  it('an upstream that is down is a branded 502 page and a failed sign-in in the audit log', async () => {
    const f = await federate();
    const down = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${down.id}/connections`, {
      name: 'upstream',
      type: 'oidc',
      issuer: 'http://127.0.0.1:9/pools/nowhere',
      clientId: 'c',
      clientSecret: 's',
    });
    expect(created.status).toBe(201);
    const app = await createClient(tarn, down.id);
    const rp = await discover(down.issuer, app.clientId, app.secret?.value);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(rp, browser);
    const uid = /\/interaction\/([^/?"]+)/.exec(start.page.url)![1]!;
    const page = await browser.get(`/pools/${down.id}/interaction/${uid}/connection/upstream`);
    expect(page.status).toBe(502);
    expect(visibleText(page.html)).toContain('The identity provider could not be reached');
    expect(page.html).not.toMatch(/ECONNREFUSED|at .*\.ts:/);
    const audit = await tarn.admin('GET', `/pools/${down.id}/audit`);
    expect(JSON.stringify(audit.body)).toContain('connection upstream: upstream_unreachable');
    const metrics = await (await fetch(`${tarn.url}/metrics`)).text();
    expect(metrics).toMatch(/tarn_sign_ins_total\{method="connection",outcome="failure"\} [1-9]/);
    void f;
  });

  it('a refusal at the upstream is a branded page: nobody is signed in and no account is made', async () => {
    const f = await federate();
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(f.rp, browser, { params: { idp: 'upstream' } });
    let page: Page & { leftTo?: string } = await browser.submit(start.page, { email: f.upstreamUser.email, password: f.upstreamUser.password });
    expect(page.html).toContain('name="decision"');
    page = await browser.submit(page, { decision: 'deny' });
    expect(page.url).toContain(`/pools/${f.downstream.id}/connections/upstream/callback`);
    expect(page.status).toBe(403);
    expect(visibleText(page.html)).toContain('The sign-in was cancelled or refused at the identity provider');
    expect(page.leftTo).toBeUndefined();
    expect(await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email)).toBeUndefined();
    expect(JSON.stringify((await tarn.admin('GET', `/pools/${f.downstream.id}/audit`)).body)).toContain('connection upstream: upstream_denied');
  });

  it('a disabled connection loses its button and cannot be chosen with idp', async () => {
    const f = await federate();
    const connection = (await tarn.admin('GET', `/pools/${f.downstream.id}/connections`)).body.items[0] as { id: string };
    expect((await tarn.admin('PATCH', `/pools/${f.downstream.id}/connections/${connection.id}`, { enabled: false })).status).toBe(200);
    const plain = await startAuthorization(f.rp, new Browser(tarn.url));
    expect(visibleText(plain.page.html)).not.toContain('Continue with Partner');
    const chosen = await startAuthorization(f.rp, new Browser(tarn.url), { params: { idp: 'upstream' } });
    expect(chosen.page.status).toBe(404);
    expect(visibleText(chosen.page.html)).toContain('not offered here');
  });

  it("an identity linked at pool A signs in as nobody of A's at pool B, which connects to the same upstream", async () => {
    const f = await federate();
    const first = await signInUpstream(f);
    const atA = (await finishAuthorization(f.rp, first.page.leftTo, first.start)).tokens.claims()!.sub;

    const poolB = await createPool(tarn);
    const callbackB = `${tarn.url}/pools/${poolB.id}/connections/upstream/callback`;
    const linkB = await createClient(tarn, f.upstream.id, { name: 'Pool B', redirectUris: [callbackB] });
    expect(
      (
        await tarn.admin('POST', `/pools/${poolB.id}/connections`, {
          name: 'upstream',
          type: 'oidc',
          displayName: 'Partner',
          issuer: f.upstream.issuer,
          clientId: linkB.clientId,
          clientSecret: linkB.secret?.value,
        })
      ).status,
    ).toBe(201);
    const appB = await createClient(tarn, poolB.id);
    const rpB = await discover(poolB.issuer, appB.clientId, appB.secret?.value);
    const second = await signInUpstream({ ...f, downstream: poolB, rp: rpB });
    const atB = (await finishAuthorization(rpB, second.page.leftTo, second.start)).tokens.claims()!.sub;

    // The same upstream subject is a user of each pool, separately.
    const userB = await downstreamUserByEmail(poolB.id, f.upstreamUser.email);
    expect(atB).toBe(userB!.id);
    expect(atB).not.toBe(atA);
    expect((await tarn.admin('GET', `/pools/${poolB.id}/users/${atA}/identities`)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${poolB.id}/users/${atB}/identities`)).body.items).toEqual([
      expect.objectContaining({ connection: 'upstream', subject: f.upstreamUser.id }),
    ]);
  });

  it('a return from an upstream sign-out that this browser did not start goes nowhere but the signed-out page', async () => {
    const f = await federate({ upstreamLogout: true });
    const browser = new Browser(tarn.url);
    const page = await browser.get(`/pools/${f.downstream.id}/connections/upstream/logged-out?state=forged`);
    expect(page.status).toBe(200);
    expect(page.leftTo).toBeUndefined();
    expect(visibleText(page.html)).toContain('You are signed out');
  });

  it("pool A's connection means nothing at pool B", async () => {
    const f = await federate();
    const other = await createPool(tarn);
    const app = await createClient(tarn, other.id);
    const rp = await discover(other.issuer, app.clientId, app.secret?.value);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(rp, browser);
    const uid = /\/interaction\/([^/?"]+)/.exec(start.page.url)![1]!;
    const page = await browser.get(`/pools/${other.id}/interaction/${uid}/connection/upstream`);
    expect(page.status).toBe(404);
    expect(visibleText(page.html)).toContain('not offered here');
    const callback = await browser.get(`/pools/${other.id}/connections/upstream/callback?code=x&state=y`);
    expect(callback.status).toBe(400);
    void f;
  });
});

describe('private_key_jwt toward the upstream', () => {
  /** A downstream connection that signs client assertions, and the upstream application registered with the given public key. */
  async function federateWithKey(registeredKey?: Record<string, unknown>) {
    const upstream = await createPool(tarn);
    const downstream = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${downstream.id}/connections`, {
      name: 'upstream',
      type: 'oidc',
      displayName: 'Partner',
      issuer: upstream.issuer,
      clientId: 'not-registered-yet',
      tokenEndpointAuthMethod: 'private_key_jwt',
    });
    expect(created.status).toBe(201);
    const connection = created.body as { id: string; hasSecret: boolean; publicJwk: Record<string, unknown>; jwksUrl: string; callbackUrl: string };
    const link = await createClient(tarn, upstream.id, {
      name: 'Downstream Tarn',
      redirectUris: [connection.callbackUrl],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [registeredKey ?? connection.publicJwk] },
    });
    const patched = await tarn.admin('PATCH', `/pools/${downstream.id}/connections/${connection.id}`, { clientId: link.clientId });
    expect(patched.status).toBe(200);
    expect(patched.body.publicJwk).toEqual(connection.publicJwk);
    const app = await createClient(tarn, downstream.id);
    const rp = await discover(downstream.issuer, app.clientId, app.secret?.value);
    const upstreamUser = await createUser(tarn, upstream.id, { emailVerified: true });
    return { f: { upstream, downstream, rp, upstreamUser } as Federation, connection, link };
  }

  it("signs in with a client assertion the upstream checks against the connection's public key, which the pool publishes", async () => {
    const { f, connection, link } = await federateWithKey();
    // No secret exists or is needed; the public key carries no private member.
    expect(connection.hasSecret).toBe(false);
    expect(link.secret).toBeUndefined();
    expect(connection.publicJwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(connection.publicJwk).not.toHaveProperty(member);
    expect(connection.jwksUrl).toBe(`${tarn.url}/pools/${f.downstream.id}/connections/jwks`);
    const published = await fetch(connection.jwksUrl);
    expect(published.status).toBe(200);
    expect(await published.json()).toEqual({ keys: [connection.publicJwk] });
    // Another pool publishes none of this pool's keys.
    expect(await (await fetch(`${tarn.url}/pools/${f.upstream.id}/connections/jwks`)).json()).toEqual({ keys: [] });

    const { page, start } = await signInUpstream(f);
    const { tokens } = await finishAuthorization(f.rp, page.leftTo, start);
    const user = await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email);
    expect(tokens.claims()!.sub).toBe(user!.id);
  });

  it('an upstream that registered another key refuses the assertion: a branded page and no user', async () => {
    const jose = await import('jose');
    const stranger = await jose.generateKeyPair('RS256', { extractable: true });
    const { f } = await federateWithKey({ ...(await jose.exportJWK(stranger.publicKey)), alg: 'RS256', use: 'sig', kid: 'stranger' });
    const { page } = await signInUpstream(f);
    expect(page.leftTo).toBeUndefined();
    expect(page.status).toBe(502);
    expect(visibleText(page.html)).toContain('could not be verified');
    expect(await downstreamUserByEmail(f.downstream.id, f.upstreamUser.email)).toBeUndefined();
  });
});

describe('an ID token the upstream did not sign', () => {
  it('is refused with a branded page: the signature is checked against the upstream JWKS', async () => {
    const { createServer } = await import('node:http');
    const jose = await import('jose');
    const published = await jose.generateKeyPair('RS256', { extractable: true });
    const forger = await jose.generateKeyPair('RS256');
    const jwk = { ...(await jose.exportJWK(published.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const pool = await createPool(tarn);
    let nonce = '';
    // An issuer whose discovery and JWKS are honest but whose token endpoint hands out an ID
    // token signed with another key (kid of the published one): what a tampered token looks like.
    const server = createServer((request, response) => {
      const url = new URL(request.url!, issuer);
      const json = (body: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (url.pathname === '/.well-known/openid-configuration') {
        return json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      }
      if (url.pathname === '/jwks') return json({ keys: [jwk] });
      if (url.pathname === '/authorize') {
        nonce = url.searchParams.get('nonce')!;
        const back = new URL(url.searchParams.get('redirect_uri')!);
        back.searchParams.set('code', 'the-code');
        back.searchParams.set('state', url.searchParams.get('state')!);
        response.writeHead(302, { location: back.href });
        return response.end();
      }
      if (url.pathname === '/token') {
        void new jose.SignJWT({ nonce, email: 'forged@example.test', email_verified: true })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(issuer)
          .setAudience('downstream')
          .setSubject('forged-subject')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(forger.privateKey)
          .then((idToken) => json({ access_token: 'at', token_type: 'Bearer', id_token: idToken, expires_in: 300 }));
        return;
      }
      response.writeHead(404);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      expect(
        (await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'forging', type: 'oidc', issuer, clientId: 'downstream', clientSecret: 's' }))
          .status,
      ).toBe(201);
      const app = await createClient(tarn, pool.id);
      const rp = await discover(pool.issuer, app.clientId, app.secret?.value);
      const browser = new Browser(tarn.url);
      const start = await startAuthorization(rp, browser, { params: { idp: 'forging' } });
      expect(start.page.leftTo).toContain(`${issuer}/authorize`);
      const page = await browser.get(start.page.leftTo!);
      expect(page.leftTo).toBeUndefined();
      expect(page.status).toBe(502);
      expect(visibleText(page.html)).toContain('could not be verified');
      expect(await downstreamUserByEmail(pool.id, 'forged@example.test')).toBeUndefined();
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
