/**
 * The admin API side of the console (ADR 1000): the reserved admin pool, administrators and
 * their roles, and the user search the console's user list is built on.
 */
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let poolId: string;
beforeAll(async () => {
  tarn = await startTarn();
  await tarn.tarn.console.prepareFirstRun();
  poolId = (await createPool(tarn)).id;
  const people = [
    { email: 'ada@example.test', profile: { name: 'Ada Lovelace' } },
    { email: 'grace@example.test', profile: { name: 'Grace Hopper' } },
    { email: 'alan@example.test', profile: { name: 'Alan Turing' } },
    { email: 'lovelace.fan@example.test', profile: {} },
  ];
  // Invited (no password to hash): only who they are matters here.
  for (const person of people) {
    const created = await tarn.admin('POST', `/pools/${poolId}/users`, { mode: 'invite', ...person });
    expect(created.status).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  await tarn.close();
});

const emails = (body: { items: { email: string }[] }) => body.items.map((item) => item.email);

describe('GET /admin/pools/{pool}/users: search, sort, total', () => {
  it('q finds words in the email or the name, case-insensitively; every word must match', async () => {
    expect(emails((await tarn.admin('GET', `/pools/${poolId}/users?q=LOVELACE&sort=email`)).body)).toEqual(['ada@example.test', 'lovelace.fan@example.test']);
    expect(emails((await tarn.admin('GET', `/pools/${poolId}/users?q=ada%20lovelace`)).body)).toEqual(['ada@example.test']);
    expect(emails((await tarn.admin('GET', `/pools/${poolId}/users?q=hopper`)).body)).toEqual(['grace@example.test']);
    // LIKE wildcards are plain characters.
    expect(emails((await tarn.admin('GET', `/pools/${poolId}/users?q=%25`)).body)).toEqual([]);
  });

  it("q also finds any text or number field the pool's profile schema declares, never a field's name", async () => {
    const staff = await createPool(tarn, {
      profileSchema: {
        type: 'object',
        properties: { name: { type: 'string' }, department: { type: 'string' }, employeeNumber: { type: 'integer' } },
        additionalProperties: false,
      },
    });
    for (const person of [
      { email: 'kim@example.test', profile: { name: 'Kim Lee', department: 'Finance', employeeNumber: 4711 } },
      { email: 'sam@example.test', profile: { name: 'Sam Roe', department: 'Research', employeeNumber: 815 } },
    ]) {
      expect((await tarn.admin('POST', `/pools/${staff.id}/users`, { mode: 'invite', ...person })).status).toBe(201);
    }
    const found = async (q: string) => emails((await tarn.admin('GET', `/pools/${staff.id}/users?sort=email&q=${encodeURIComponent(q)}`)).body);
    expect(await found('finance')).toEqual(['kim@example.test']);
    expect(await found('4711')).toEqual(['kim@example.test']);
    expect(await found('research roe')).toEqual(['sam@example.test']);
    expect(await found('finance roe')).toEqual([]);
    // The field's name is not its value.
    expect(await found('department')).toEqual([]);
    const counted = await tarn.admin('GET', `/pools/${staff.id}/users?q=e&total=true&limit=1`);
    expect(counted.body).toMatchObject({ total: 2, items: [expect.any(Object)] });
  });

  it('sorts by email or creation time and pages through without losing or repeating anyone; total counts the matches', async () => {
    const byEmail = await tarn.admin('GET', `/pools/${poolId}/users?sort=email&total=true`);
    expect(emails(byEmail.body)).toEqual(['ada@example.test', 'alan@example.test', 'grace@example.test', 'lovelace.fan@example.test']);
    expect(byEmail.body.total).toBe(4);
    expect((await tarn.admin('GET', `/pools/${poolId}/users?q=a&total=true&limit=1`)).body.total).toBe(4);
    expect((await tarn.admin('GET', `/pools/${poolId}/users`)).body.total).toBeUndefined();
    for (const sort of ['email', 'createdAt', '-createdAt']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { email: string }[]; nextCursor: string | null } } = await tarn.admin(
          'GET',
          `/pools/${poolId}/users?sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...emails(page.body));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(4);
      expect(new Set(seen).size).toBe(4);
      if (sort === '-createdAt') expect(seen[0]).toBe('lovelace.fan@example.test');
      if (sort === 'createdAt') expect(seen[0]).toBe('ada@example.test');
    }
  });

  it('unknown query parameters and bad values answer 400 naming them', async () => {
    const unknown = await tarn.admin('GET', `/pools/${poolId}/users?search=ada`);
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('search');
    const sort = await tarn.admin('GET', `/pools/${poolId}/users?sort=password`);
    expect(sort.status).toBe(400);
    expect(sort.body.errors[0].field).toBe('sort');
    const cursor = await tarn.admin('GET', `/pools/${poolId}/users?sort=createdAt&cursor=${Buffer.from('c:nonsense').toString('base64url')}`);
    expect(cursor.status).toBeLessThan(500);
    const notAnId = await tarn.admin(
      'GET',
      `/pools/${poolId}/users?sort=createdAt&cursor=${Buffer.from('c:2026-01-01T00:00:00.000Z|zzz').toString('base64url')}`,
    );
    expect(notAnId.status).toBe(400);
  });
});

describe('the admin pool', () => {
  it('exists from the first start under a reserved id that no pool can take, and cannot be deleted', async () => {
    expect((await tarn.admin('GET', '/pools/tarn-admin')).status).toBe(200);
    const taken = await tarn.admin('POST', '/pools', { id: 'tarn-admin', name: 'Mine' });
    expect(taken.status).toBe(400);
    expect(taken.body.errors).toEqual([expect.objectContaining({ field: 'id', detail: "Is reserved for Tarn's administrators." })]);
    expect((await tarn.admin('DELETE', '/pools/tarn-admin')).status).toBe(409);
    // Its built-in console client is not among its applications.
    expect((await tarn.admin('GET', '/pools/tarn-admin/clients')).body.items).toEqual([]);
    const shadow = await tarn.admin('POST', '/pools/tarn-admin/clients', {
      name: 'Fake console',
      clientId: 'tarn:console',
      redirectUris: ['https://evil.example/cb'],
    });
    expect(shadow.status).toBe(400);
    expect(shadow.body.errors[0].field).toBe('clientId');
    const discovery = await fetch(`${tarn.url}/pools/tarn-admin/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
  });

  it('administrators exist only there, and each role names an existing pool', async () => {
    expect((await tarn.admin('GET', `/pools/${poolId}/administrators`)).status).toBe(404);
    const ghost = await tarn.admin('POST', '/pools/tarn-admin/administrators', {
      mode: 'invite',
      email: 'ghost@example.test',
      roles: [{ role: 'admin', pool: 'no-such-pool' }],
    });
    expect(ghost.status).toBe(400);
    expect(ghost.body.errors[0].field).toBe('roles.0.pool');
    const ownerWithPool = await tarn.admin('POST', '/pools/tarn-admin/administrators', {
      mode: 'invite',
      email: 'ghost@example.test',
      roles: [{ role: 'owner', pool: poolId }],
    });
    expect(ownerWithPool.status).toBe(400);
    const created = await tarn.admin('POST', '/pools/tarn-admin/administrators', {
      mode: 'password',
      email: 'helper@example.test',
      password: 'a long passphrase 2',
      roles: [{ role: 'viewer', pool: poolId }],
    });
    expect(created.status).toBe(201);
    const list = await tarn.admin('GET', '/pools/tarn-admin/administrators');
    expect(list.body.items).toEqual([expect.objectContaining({ email: 'helper@example.test', roles: [{ role: 'viewer', pool: poolId }] })]);
    // Deleting the pool takes the role with it.
    expect((await tarn.admin('DELETE', `/pools/${poolId}`)).status).toBe(204);
    expect((await tarn.admin('GET', '/pools/tarn-admin/administrators')).body.items[0].roles).toEqual([]);
  });

  it('a token that is not a console access token is refused (401)', async () => {
    const response = await fetch(`${tarn.url}/admin/pools`, { headers: { authorization: 'Bearer a.b.c' } });
    expect(response.status).toBe(401);
  });
});
