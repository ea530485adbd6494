/**
 * Admin user listing: exact email (case-insensitive), email prefix, status filter and
 * cursor pagination ({items, nextCursor}); another pool's users never appear.
 */
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

it('finds users by exact email, by prefix and by status, a page at a time', async () => {
  const pool = await createPool(tarn);
  const other = await createPool(tarn);
  const emails = ['ann@acme.test', 'anna@acme.test', 'annabel@other.test', 'bob@acme.test', 'an_x@acme.test'];
  for (const email of emails) await createUser(tarn, pool.id, { email });
  await createUser(tarn, other.id, { email: 'ann.other@acme.test' });
  await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'annie@acme.test', mode: 'invite' });

  const exact = await tarn.admin('GET', `/pools/${pool.id}/users?email=ANN@acme.test`);
  expect(exact.body.items.map((user: { email: string }) => user.email)).toEqual(['ann@acme.test']);

  const prefix = await tarn.admin('GET', `/pools/${pool.id}/users?emailPrefix=Ann`);
  expect(prefix.body.items.map((user: { email: string }) => user.email).sort()).toEqual([
    'ann@acme.test',
    'anna@acme.test',
    'annabel@other.test',
    'annie@acme.test',
  ]);

  // "_" and "%" are literal characters in a prefix, not wildcards.
  const literal = await tarn.admin('GET', `/pools/${pool.id}/users?emailPrefix=an_`);
  expect(literal.body.items.map((user: { email: string }) => user.email)).toEqual(['an_x@acme.test']);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users?emailPrefix=%25`)).body.items).toEqual([]);

  const invited = await tarn.admin('GET', `/pools/${pool.id}/users?status=new`);
  expect(invited.body.items.map((user: { email: string }) => user.email)).toEqual(['annie@acme.test']);
  const activeAnns = await tarn.admin('GET', `/pools/${pool.id}/users?emailPrefix=ann&status=active`);
  expect(activeAnns.body.items).toHaveLength(3);

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
    const page = await tarn.admin('GET', `/pools/${pool.id}/users${query}`);
    expect(page.status).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.items.map((user: { email: string }) => user.email));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen.sort()).toEqual([...emails, 'annie@acme.test'].sort());
  expect(seen).not.toContain('ann.other@acme.test');

  const badStatus = await tarn.admin('GET', `/pools/${pool.id}/users?status=sleeping`);
  expect(badStatus.status).toBe(400);
  expect(badStatus.body.errors[0].field).toBe('status');
});

it('an invitation needs no password, and a password mode user needs one that meets the policy', async () => {
  const pool = await createPool(tarn, { passwordPolicy: { minLength: 12 } });
  const noMode = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'x@acme.test', password: 'long enough pw' });
  expect(noMode.status).toBe(400);
  const short = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'x@acme.test', mode: 'password', password: 'elevenchars' });
  expect(short.status).toBe(400);
  expect(short.body.errors).toEqual([expect.objectContaining({ field: 'password', detail: expect.stringContaining('minLength') })]);
  const patched = await tarn.admin('PATCH', `/pools/${pool.id}/users/${(await createUser(tarn, pool.id, { password: 'a long enough one' })).id}`, {
    password: 'short',
  });
  expect(patched.body.errors[0].detail).toContain('minLength');
  const invitedWithPassword = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'y@acme.test', mode: 'invite', password: 'a long enough one' });
  expect(invitedWithPassword.status).toBe(400);
  expect(invitedWithPassword.body.errors[0].field).toBe('password');
});
