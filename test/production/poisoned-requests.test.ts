/**
 * One request's bad text never fails another request, and is the sender's own 4xx: a NUL
 * character or an unpaired UTF-16 surrogate (text PostgreSQL cannot store) sent amid
 * concurrent legitimate requests, at the protocol endpoints, the admin API, the hosted
 * forms and /me.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser, REDIRECT_URI } from '../support/fixtures.js';
import { authorizationUrl, codeRequest, postForm } from '../support/protocol.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let tarn: RunningTarn;
beforeAll(async () => {
  // No failure limits: every request must reach the code under test.
  tarn = await startTarn({ RATE_LIMIT_LOGIN_FAILURES: '0', RATE_LIMIT_TOKEN_FAILURES: '0', RATE_LIMIT_ADMIN_FAILURES: '0' });
});
afterAll(async () => {
  await tarn.close();
});

/** Where an authorization request went: the hosted page (an interaction), or back to the client with an error. */
async function authorizationOutcome(url: string): Promise<{ status: number; interaction: boolean; error: string | null }> {
  const response = await fetch(url, { redirect: 'manual' });
  await response.arrayBuffer();
  const location = response.headers.get('location') ?? '';
  const error = location.startsWith(REDIRECT_URI) ? new URL(location).searchParams.get('error') : null;
  return { status: response.status, interaction: /\/interaction\//.test(location), error };
}

it('a NUL in one authorization request amid 150 legitimate ones: all 150 reach the sign-in page, the poisoned one alone gets invalid_request', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const legit = await Promise.all(Array.from({ length: 150 }, () => codeRequest(app.clientId)));
  const poisoned = await codeRequest(app.clientId, { state: 'before\u0000after' });
  const urls = legit.map(({ params }) => authorizationUrl(pool.issuer, params));
  urls.splice(75, 0, authorizationUrl(pool.issuer, poisoned.params));

  const outcomes = await Promise.all(urls.map(authorizationOutcome));
  const [bad] = outcomes.splice(75, 1);
  expect(outcomes.filter((outcome) => !outcome.interaction)).toEqual([]);
  // RFC 6749 §4.1.2.1: a malformed request with a valid redirect URI goes back to the client.
  expect(bad).toEqual({ status: 303, interaction: false, error: 'invalid_request' });
});

it('a NUL in one device authorization amid legitimate ones: they get their codes, it gets 400 invalid_request', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id, { grantTypes: [DEVICE_GRANT], redirectUris: [], tokenEndpointAuthMethod: 'none' });
  const request = (loginHint: string) => postForm(`${pool.issuer}/device/auth`, { client_id: app.clientId, scope: 'openid', login_hint: loginHint });
  const hints = Array.from({ length: 60 }, (_, n) => `user${n}@example.test`);
  hints.splice(30, 0, 'user\u0000@example.test');
  const answers = await Promise.all(hints.map(request));
  const [bad] = answers.splice(30, 1);
  expect(answers.filter((answer) => answer.status !== 200 || !answer.body.device_code).map(({ status, body }) => ({ status, body }))).toEqual([]);
  expect(bad!.status).toBe(400);
  expect(bad!.body.error).toBe('invalid_request');
});

it('a NUL in a token or client id is an unknown token or client, never a 5xx, and the introspections beside it are answered', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id, { grantTypes: ['client_credentials'], redirectUris: [] });
  const auth = { clientId: app.clientId, clientSecret: app.secret?.value };
  const token = (await postForm(`${pool.issuer}/token`, { grant_type: 'client_credentials' }, auth)).body.access_token as string;
  const tokens = Array.from({ length: 120 }, () => token);
  tokens.splice(60, 0, `${token}\u0000`);
  const answers = await Promise.all(tokens.map((value) => postForm(`${pool.issuer}/token/introspection`, { token: value }, auth)));
  const [bad] = answers.splice(60, 1);
  expect(answers.filter((answer) => answer.body?.active !== true).map(({ status, body }) => ({ status, body }))).toEqual([]);
  // RFC 7662 §2.2: a token that is not valid is simply not active.
  expect(bad).toMatchObject({ status: 200, body: { active: false } });

  // In the Authorization header, the provider refuses it as badly encoded; in the body, no client has that id.
  const inHeader = await postForm(
    `${pool.issuer}/token`,
    { grant_type: 'client_credentials' },
    { clientId: `${app.clientId}\u0000`, clientSecret: app.secret?.value },
  );
  expect(inHeader).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  const inBody = await postForm(
    `${pool.issuer}/token`,
    { grant_type: 'client_credentials', client_secret: app.secret!.value },
    { clientId: `${app.clientId}\u0000` },
  );
  expect(inBody).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
});

it('an unpaired surrogate in PATCH /me is a 400 naming the field, and the profile is unchanged', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id, { profile: { name: 'Ann Lee' } });
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid profile' });
  // JSON.stringify writes the lone surrogate as the escape "\ud800", as any client would.
  const response = await fetch(`${pool.issuer}/me`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ profile: { nickname: 'an\ud800nie' } }),
  });
  expect(response.status).toBe(400);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { errors: { field: string }[] };
  expect(problem.errors.map((error) => error.field)).toEqual(['profile.nickname']);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`)).body.profile).toEqual({ name: 'Ann Lee' });
});

it('the admin API names the field holding a NUL or an unpaired surrogate, in a 400 problem document', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  for (const value of ['An\u0000n', 'An\udc00n', '\ud83d']) {
    const response = await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { profile: { name: value } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.errors.map((error: { field: string }) => error.field)).toEqual(['profile.name']);
  }
  const created = await tarn.admin('POST', '/pools', { id: `nul-${Date.now()}`, name: 'Bad\u0000Name' });
  expect(created.status).toBe(400);
  expect(created.body.errors.map((error: { field: string }) => error.field)).toEqual(['name']);
});

it('a NUL in the hosted sign-in form is a 400 page in plain words, and the next sign-in works', async () => {
  const pool = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const refused = await browser.submit(start.page, { email: `${user.email}\u0000`, password: user.password });
  expect(refused.status).toBe(400);
  expect(refused.headers.get('content-type')).toContain('text/html');
  expect(visibleText(refused.html)).not.toMatch(/\{|at \w+ \(/);
  const { tokens } = await signIn(config, tarn.url, user);
  expect(tokens.access_token).toBeDefined();
});
