/**
 * Pool isolation (docs/design.md#pool-isolation): a client, user, code, refresh token,
 * access token or session of pool A means nothing at pool B.
 */
import * as oidc from 'openid-client';
import { adminRouteTemplates } from '../support/admin-routes.js';
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { discover, finishAuthorization, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function twoPools() {
  const a = await createPool(tarn, { name: 'Pool A' });
  const b = await createPool(tarn, { name: 'Pool B' });
  const appA = await createClient(tarn, a.id);
  const appB = await createClient(tarn, b.id);
  const userA = await createUser(tarn, a.id);
  return { a, b, appA, appB, userA };
}

async function tokenRequest(issuer: string, clientId: string, clientSecret: string, params: Record<string, string>) {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

it("pool A's secret finds nothing on any admin route of pool B, and no route answers for a missing pool", async () => {
  const { a, b } = await twoPools();
  const asA = `Basic ${Buffer.from(`${a.id}:${a.secret.value}`).toString('base64')}`;
  const poolRoutes = adminRouteTemplates().filter(([, template]) => template.startsWith('/admin/pools/:pool'));
  expect(poolRoutes.length).toBeGreaterThan(30);
  const answers: string[] = [];
  for (const [method, template] of poolRoutes) {
    const ids = (poolId: string) => template.replace(':pool', poolId).replace(/:(\w+)/g, '00000000-0000-0000-0000-000000000000');
    const headers = { 'content-type': 'application/json' };
    const body = ['POST', 'PATCH', 'PUT'].includes(method) ? '{}' : undefined;
    const foreign = await fetch(`${tarn.url}${ids(b.id)}`, { method, headers: { ...headers, authorization: asA }, body });
    const missing = await fetch(`${tarn.url}${ids('no-such-pool')}`, { method, headers: { ...headers, authorization: `Bearer ${tarn.adminToken}` }, body });
    for (const [who, response] of [
      ['A at B', foreign],
      ['missing', missing],
    ] as const) {
      const problem = (await response.json()) as { title?: string };
      answers.push(`${method} ${template} ${who}: ${response.status} ${problem.title}`);
    }
  }
  expect(answers).toEqual(answers.map((line) => line.replace(/: .*$/, ': 404 Pool not found')));
  // Pool B is untouched, and pool A's secret still works at A.
  expect((await tarn.admin('GET', `/pools/${b.id}`)).status).toBe(200);
  expect((await fetch(`${tarn.url}/admin/pools/${a.id}`, { headers: { authorization: asA } })).status).toBe(200);
});

it("pool A's client is unknown at pool B", async () => {
  const { b, appA } = await twoPools();
  const page = await new Browser(tarn.url).get(
    `${b.issuer}/auth?${new URLSearchParams({ client_id: appA.clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI })}`,
  );
  expect(page.leftTo).toBeUndefined();
  expect(page.status).toBe(400);
  expect(visibleText(page.html)).toContain('Pool B');
  expect(visibleText(page.html)).toContain('Unknown application');
  const token = await tokenRequest(b.issuer, appA.clientId, appA.secret!.value, { grant_type: 'client_credentials' });
  expect(token.status).toBe(401);
  expect(token.body.error).toBe('invalid_client');
});

it("pool A's user cannot sign in at pool B", async () => {
  const { b, appB, userA } = await twoPools();
  const config = await discover(b.issuer, appB.clientId, appB.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const result = await browser.submit(start.page, { email: userA.email, password: userA.password });
  expect(result.status).toBe(401);
  expect(visibleText(result.html)).toContain('Invalid email or password.');
});

it("pool A's code, refresh token and access token are rejected at pool B", async () => {
  const { a, b, appA, appB, userA } = await twoPools();
  const configA = await discover(a.issuer, appA.clientId, appA.secret?.value);
  const signedIn = await signIn(configA, tarn.url, userA);
  expect(signedIn.tokens.refresh_token).toBeDefined();

  // A fresh, unused code of pool A, presented at pool B.
  const browser = signedIn.browser;
  const start = await startAuthorization(configA, browser);
  const code = new URL(start.page.leftTo!).searchParams.get('code')!;
  const codeAtB = await tokenRequest(b.issuer, appB.clientId, appB.secret!.value, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: start.verifier,
  });
  expect(codeAtB.status).toBe(400);
  expect(codeAtB.body.error).toBe('invalid_grant');

  const refreshAtB = await tokenRequest(b.issuer, appB.clientId, appB.secret!.value, {
    grant_type: 'refresh_token',
    refresh_token: signedIn.tokens.refresh_token!,
  });
  expect(refreshAtB.status).toBe(400);
  expect(refreshAtB.body.error).toBe('invalid_grant');

  const userinfoAtB = await fetch(`${b.issuer}/userinfo`, { headers: { authorization: `Bearer ${signedIn.tokens.access_token}` } });
  expect(userinfoAtB.status).toBe(401);
  expect(userinfoAtB.headers.get('www-authenticate')).toContain('invalid_token');

  // Pool A's code and refresh token still work at pool A: it was pool B that refused them.
  const stillValid = await finishAuthorization(configA, start.page.leftTo, start);
  expect(stillValid.tokens.claims()!.sub).toBe(userA.id);
  const refreshed = await oidc.refreshTokenGrant(configA, signedIn.tokens.refresh_token!);
  expect(refreshed.access_token).toBeDefined();
});

it("pool A's session does not sign the user in at pool B", async () => {
  const { a, b, appA, appB, userA } = await twoPools();
  const configA = await discover(a.issuer, appA.clientId, appA.secret?.value);
  const signedIn = await signIn(configA, tarn.url, userA);
  const sessionCookies = signedIn.browser.cookieNames().filter((name) => name.startsWith('_tarn_session'));
  // Session cookies are scoped to the pool's path: the browser never sends them to pool B.
  expect(sessionCookies.length).toBeGreaterThan(0);
  expect(sessionCookies.every((name) => name.endsWith(`@/pools/${a.id}`))).toBe(true);

  const configB = await discover(b.issuer, appB.clientId, appB.secret?.value);
  // Even replayed by hand at pool B's path, pool A's session cookie is not a session there:
  // pool B asks for a login (a known session would go straight to consent).
  const replaying = new Browser(tarn.url);
  for (const pair of signedIn.browser.cookiePairs('_tarn_session')) replaying.addCookie(pair, `/pools/${b.id}`);
  const replayed = await startAuthorization(configB, replaying);
  expect(replayed.page.html).toContain('name="password"');

  const atB = await startAuthorization(configB, signedIn.browser);
  expect(atB.page.leftTo).toBeUndefined();
  expect(visibleText(atB.page.html)).toContain('Sign in');
  expect(visibleText(atB.page.html)).toContain('Pool B');
});

it("pool A's users and clients are not found through pool B's admin routes, even with pool B's secret", async () => {
  const { b, appA, userA } = await twoPools();
  const basicB = { authorization: `Basic ${Buffer.from(`${b.id}:${b.secret.value}`).toString('base64')}` };
  for (const headers of [{}, basicB]) {
    expect((await tarn.admin('GET', `/pools/${b.id}/users/${userA.id}`, undefined, headers)).status).toBe(404);
    expect((await tarn.admin('PATCH', `/pools/${b.id}/users/${userA.id}`, { status: 'disabled' }, headers)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${b.id}/users/${userA.id}`, undefined, headers)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${b.id}/clients/${appA.clientId}`, undefined, headers)).status).toBe(404);
    expect((await tarn.admin('DELETE', `/pools/${b.id}/clients/${appA.clientId}`, undefined, headers)).status).toBe(404);
    const list = await tarn.admin('GET', `/pools/${b.id}/users?email=${encodeURIComponent(userA.email)}`, undefined, headers);
    expect(list.body.items).toEqual([]);
  }
});

it('deleting a pool deletes everything in it and leaves other pools alone', async () => {
  const { a, b, appA, userA } = await twoPools();
  const configA = await discover(a.issuer, appA.clientId, appA.secret?.value);
  await signIn(configA, tarn.url, userA);
  const db = tarn.database.handle.db;
  const count = async (table: 'users' | 'clients' | 'signing_keys' | 'pool_secrets' | 'oidc_artifacts', poolId: string) =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('pool_id', '=', poolId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  expect(await count('oidc_artifacts', a.id)).toBeGreaterThan(0);

  expect((await tarn.admin('DELETE', `/pools/${a.id}`)).status).toBe(204);
  for (const table of ['users', 'clients', 'signing_keys', 'pool_secrets', 'oidc_artifacts'] as const) {
    expect(await count(table, a.id)).toBe(0);
  }
  expect(await count('signing_keys', b.id)).toBe(4);
  expect((await tarn.admin('GET', `/pools/${a.id}`)).status).toBe(404);
  expect((await fetch(`${a.issuer}/.well-known/openid-configuration`)).status).toBe(404);
  expect((await fetch(`${b.issuer}/.well-known/openid-configuration`)).status).toBe(200);
});

it("a pool created again under a deleted pool's id starts with none of its tokens or sessions", async () => {
  // Artifacts have no foreign key to pools (ADR 0706): an instance that has not yet heard of
  // the deletion may still write one under the old id. Creating the pool again clears them.
  const { a, appA, userA } = await twoPools();
  const { tokens } = await signIn(await discover(a.issuer, appA.clientId, appA.secret?.value), tarn.url, userA);
  const db = tarn.database.handle.db;
  const artifactsOf = async (poolId: string) =>
    Number(
      (
        await db
          .selectFrom('oidc_artifacts')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('pool_id', '=', poolId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const leftovers = await db.selectFrom('oidc_artifacts').selectAll().where('pool_id', '=', a.id).execute();
  expect(leftovers.length).toBeGreaterThan(0);

  expect((await tarn.admin('DELETE', `/pools/${a.id}`)).status).toBe(204);
  expect(await artifactsOf(a.id)).toBe(0);
  // A late write of the old pool's provider lands after the deletion.
  await db
    .insertInto('oidc_artifacts')
    .values(leftovers.map((row) => ({ ...row, payload: JSON.stringify(row.payload) })))
    .execute();
  expect(await artifactsOf(a.id)).toBe(leftovers.length);

  const again = await createPool(tarn, { id: a.id, name: 'Pool A, again' });
  expect(again.id).toBe(a.id);
  expect(await artifactsOf(a.id)).toBe(0);
  const userinfo = await fetch(`${again.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  expect(userinfo.status).toBe(401);
});
