/**
 * Patterns in a pool's user schemas are matched in linear time: a pattern that backtracks
 * catastrophically on a JavaScript RegExp (`^(a+)+$` against 32 "a" and a "!") answers
 * a plain 400 at once, through every door that checks a profile (self-registration,
 * PATCH /me, the admin API), and every other pool keeps answering meanwhile. Patterns the
 * linear engine cannot match (backreferences, lookaround) are refused when the schema is set.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

const evilSchema = {
  type: 'object',
  required: ['badge'],
  properties: { badge: { type: 'string', pattern: '^(a+)+$', title: 'Badge' } },
  additionalProperties: false,
};
const evilInput = `${'a'.repeat(32)}!`;

async function discoveryOf(issuer: string) {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  return { status: response.status, issuer: ((await response.json()) as { issuer: string }).issuer };
}

it('answers a registration with input that would backtrack for minutes with a 400 form, while another pool answers', async () => {
  const pool = await createPool(tarn, { selfRegistration: true, profileSchema: evilSchema });
  const other = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  const form = await browser.get(/href="([^"]+\/register)"/.exec(start.page.html)![1]!);

  const [registration, neighbour] = await Promise.all([
    browser.submit(form, { email: 'mallory@example.test', password: 'a long and lovely password', 'profile.badge': evilInput }),
    discoveryOf(other.issuer),
  ]);
  expect(neighbour).toEqual({ status: 200, issuer: other.issuer });
  expect(registration.status).toBe(400);
  // The pattern's refusal, in the user's words and tied to the field.
  expect(visibleText(registration.html)).toContain('Badge is not valid.');
  expect(registration.html).toMatch(/name="profile\.badge"[^>]*aria-invalid="true"/);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users?email=mallory%40example.test`)).body.items).toHaveLength(0);
});

it('answers PATCH /me and admin writes with that input with a 400 naming the field, while another pool answers', async () => {
  const pool = await createPool(tarn, { profileSchema: evilSchema });
  const other = await createPool(tarn);
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id, { profile: { badge: 'aaaa' } });
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid profile' });

  const [patched, neighbour] = await Promise.all([
    fetch(`${pool.issuer}/me`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ profile: { badge: evilInput } }),
    }),
    discoveryOf(other.issuer),
  ]);
  expect(neighbour).toEqual({ status: 200, issuer: other.issuer });
  expect(patched.status).toBe(400);
  expect(((await patched.json()) as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['profile.badge']);

  const byAdmin = await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { profile: { badge: evilInput } });
  expect(byAdmin.status).toBe(400);
  expect(byAdmin.body.errors.map((error: { field: string }) => error.field)).toEqual(['profile.badge']);
  // The pattern still does its job on ordinary input.
  expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { profile: { badge: 'aaaaaa' } })).status).toBe(200);
});

it('refuses schemas whose patterns need backtracking (backreferences, lookaround) when they are set', async () => {
  const pool = await createPool(tarn);
  for (const schema of [
    { type: 'object', properties: { badge: { type: 'string', pattern: '^(?=.*\\d)\\w+$' } } },
    { type: 'object', properties: { badge: { type: 'string', pattern: '^(\\w)\\1$' } } },
    { type: 'object', patternProperties: { '^(?!internal_)': { type: 'string' } } },
  ]) {
    const refused = await tarn.admin('PATCH', `/pools/${pool.id}`, { profileSchema: schema });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.errors).toEqual([expect.objectContaining({ field: 'profileSchema', detail: expect.stringContaining('cannot be used') })]);
  }
  const created = await tarn.admin('POST', '/pools', {
    id: `${pool.id}-b`,
    name: 'B',
    metadataSchema: { type: 'object', properties: { x: { type: 'string', pattern: '(a)\\1' } } },
  });
  expect(created.status).toBe(400);
  expect(created.body.errors.map((error: { field: string }) => error.field)).toEqual(['metadataSchema']);
});
