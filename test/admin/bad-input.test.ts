/**
 * Bad input gets a clear error (docs/design.md#bad-input-and-faults): every mistake is a 4xx
 * application/problem+json (RFC 9457) naming the field, never a 500 or a stack trace.
 */
import { adminRouteTemplates } from '../support/admin-routes.js';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let poolId: string;
beforeAll(async () => {
  tarn = await startTarn({ BODY_LIMIT_BYTES: '4096' });
  poolId = (await createPool(tarn)).id;
});
afterAll(async () => {
  await tarn.close();
});

function expectProblem(response: { status: number; body: any; headers: Headers }, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//), title: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/at \w+.*\.(ts|js):\d+/);
}

const fields = (response: { body: any }) => (response.body.errors as { field: string }[]).map((error) => error.field).sort();

it('malformed JSON → 400 saying so', async () => {
  const response = await tarn.admin('POST', '/pools', '{"name": "x",');
  expectProblem(response, 400);
  expect(response.body.detail).toContain('not valid JSON');
});

it('a body that is not JSON → 415', async () => {
  const response = await tarn.admin('POST', '/pools', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
  expectProblem(response, 415);
});

it('no body where one is needed → 400', async () => {
  const response = await tarn.admin('POST', '/pools');
  expectProblem(response, 400);
});

it('wrong types and unknown fields → 400 naming each field', async () => {
  const response = await tarn.admin('POST', '/pools', {
    name: 42,
    selfRegistration: 'yes',
    tagColor: 'red',
    colour: '#fff',
    signIn: { password: 1, sms: true },
  });
  expectProblem(response, 400);
  expect(fields(response)).toEqual(['colour', 'name', 'selfRegistration', 'signIn.password', 'signIn.sms', 'tagColor']);
  expect(response.body.errors.find((e: { field: string }) => e.field === 'signIn.sms').pointer).toBe('/signIn/sms');
});

it('a JSON array or scalar instead of an object → 400', async () => {
  expectProblem(await tarn.admin('POST', '/pools', '[1,2]'), 400);
  expectProblem(await tarn.admin('POST', '/pools', '"pool"'), 400);
  expectProblem(await tarn.admin('POST', '/pools', 'null'), 400);
});

it('an oversized body → 413', async () => {
  const response = await tarn.admin('POST', '/pools', { name: 'x'.repeat(10_000) });
  expectProblem(response, 413);
});

it.each(['A', 'ab_c', '-abc', 'a', 'x'.repeat(64), 'ünï', 'a b'])('a bad pool slug %j → 400 naming id', async (id) => {
  const response = await tarn.admin('POST', '/pools', { id, name: 'Bad slug' });
  expectProblem(response, 400);
  expect(fields(response)).toEqual(['id']);
});

it('a taken pool id → 409 naming id', async () => {
  const response = await tarn.admin('POST', '/pools', { id: poolId, name: 'Again' });
  expectProblem(response, 409);
  expect(fields(response)).toEqual(['id']);
});

it('unknown pools, users and clients → 404, including ids that are not even well formed', async () => {
  expectProblem(await tarn.admin('GET', '/pools/no-such-pool'), 404);
  expectProblem(await tarn.admin('GET', `/pools/${poolId}/users/not-a-uuid`), 404);
  expectProblem(await tarn.admin('GET', `/pools/${poolId}/users/00000000-0000-4000-8000-000000000000`), 404);
  expectProblem(await tarn.admin('GET', `/pools/${poolId}/clients/nope`), 404);
  expectProblem(await tarn.admin('GET', '/pools/UPPER/users'), 404);
  expectProblem(await tarn.admin('GET', '/nothing-here'), 404);
});

it('client mistakes: missing redirect URIs, URIs with fragments, public clients with client_credentials', async () => {
  const noRedirect = await tarn.admin('POST', `/pools/${poolId}/clients`, { name: 'App' });
  expectProblem(noRedirect, 400);
  expect(fields(noRedirect)).toEqual(['redirectUris']);
  const fragment = await tarn.admin('POST', `/pools/${poolId}/clients`, { name: 'App', redirectUris: ['https://app.example/cb#x', 'not a url'] });
  expectProblem(fragment, 400);
  expect(fields(fragment)).toEqual(['redirectUris.0', 'redirectUris.1']);
  const publicCc = await tarn.admin('POST', `/pools/${poolId}/clients`, { name: 'App', tokenEndpointAuthMethod: 'none', grantTypes: ['client_credentials'] });
  expectProblem(publicCc, 400);
  expect(fields(publicCc)).toEqual(['grantTypes']);
  const badGrant = await tarn.admin('POST', `/pools/${poolId}/clients`, { name: 'App', grantTypes: ['password'] });
  expectProblem(badGrant, 400);
  expect(fields(badGrant)).toEqual(['grantTypes.0']);
});

it('user mistakes: bad email, short password, duplicate email in any case, bad pagination', async () => {
  const badEmail = await tarn.admin('POST', `/pools/${poolId}/users`, { email: 'nope', mode: 'password', password: 'long enough pw' });
  expectProblem(badEmail, 400);
  expect(fields(badEmail)).toEqual(['email']);
  const short = await tarn.admin('POST', `/pools/${poolId}/users`, { email: 'short@example.test', mode: 'password', password: 'abc' });
  expectProblem(short, 400);
  expect(fields(short)).toEqual(['password']);
  expect(short.body.errors[0].detail).toContain('minLength');
  const user = await createUser(tarn, poolId);
  const duplicate = await tarn.admin('POST', `/pools/${poolId}/users`, { email: user.email.toUpperCase(), mode: 'password', password: 'another long pw' });
  expectProblem(duplicate, 409);
  expect(fields(duplicate)).toEqual(['email']);
  const badLimit = await tarn.admin('GET', `/pools/${poolId}/users?limit=0`);
  expectProblem(badLimit, 400);
  expect(fields(badLimit)).toEqual(['limit']);
  const badCursor = await tarn.admin('GET', `/pools/${poolId}/users?cursor=garbage`);
  expectProblem(badCursor, 400);
  expect(fields(badCursor)).toEqual(['cursor']);
});

it('an unknown query parameter → 400 naming it, as an unknown body field is', async () => {
  const misspelt = await tarn.admin('GET', `/pools/${poolId}/users?emial=ann@example.test`);
  expectProblem(misspelt, 400);
  expect(misspelt.body.errors).toEqual([{ field: 'emial', pointer: '/emial', detail: 'Unknown query parameter.' }]);
  const none = await tarn.admin('GET', `/pools/${poolId}?verbose=1&limit=2`);
  expectProblem(none, 400);
  expect(fields(none)).toEqual(['limit', 'verbose']);
  const deletion = await tarn.admin('DELETE', `/pools/${poolId}/groups/00000000-0000-0000-0000-000000000000?cascade=true&force=yes`);
  expectProblem(deletion, 400);
  expect(fields(deletion)).toEqual(['force']);
});

it('an unknown query parameter → 400 on every route of the admin API, before anything is read or changed', async () => {
  const routes = adminRouteTemplates();
  expect(routes.length).toBeGreaterThan(60);
  const unknownId = '00000000-0000-0000-0000-000000000000';
  const refused: string[] = [];
  for (const [method, template] of routes) {
    const path = template
      .replace(/^\/admin/, '')
      .replace(':pool', poolId)
      .replace(':kind', template.includes('/branding/') ? 'logo' : 'verification')
      .replace(':language', 'en')
      .replace(/:\w+/g, unknownId);
    const answer = await tarn.admin(method, `${path}?unexpected=1`, ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
    if (answer.status !== 400 || !(answer.body.errors as { field: string }[] | undefined)?.some((error) => error.field === 'unexpected')) {
      refused.push(`${method} ${template}: ${answer.status}`);
    }
  }
  expect(refused).toEqual([]);
  // Nothing was done: the pool is still there.
  expect((await tarn.admin('GET', `/pools/${poolId}`)).status).toBe(200);
});

it('a wrong method on a known route → 405 problem', async () => {
  const response = await tarn.admin('PUT', '/pools');
  expectProblem(response, 405);
});
