/**
 * The administrator's side of a move: a streamed NDJSON or CSV import answered with a
 * report (dry run, partial failure with line numbers, onConflict, atomic), groups by name
 * or path, and the export that lets users leave again.
 */
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

async function post(poolId: string, body: string, query = '', type = 'application/x-ndjson', authorization = `Bearer ${tarn.adminToken}`) {
  const response = await fetch(`${tarn.url}/admin/pools/${poolId}/users/import${query}`, {
    method: 'POST',
    headers: { authorization, 'content-type': type },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}
const ndjson = (lines: unknown[]) => lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');

async function listEmails(poolId: string): Promise<string[]> {
  const { body } = await tarn.admin('GET', `/pools/${poolId}/users?limit=100`);
  return (body.items as { email: string }[]).map((user) => user.email).sort();
}

async function makeGroups(poolId: string) {
  const staff = await tarn.admin('POST', `/pools/${poolId}/groups`, { name: 'staff' });
  const engineering = await tarn.admin('POST', `/pools/${poolId}/groups`, { name: 'engineering', parentId: staff.body.id });
  return { staff: staff.body.id as string, engineering: engineering.body.id as string };
}

describe('POST /admin/pools/{pool}/users/import', () => {
  it('imports the good lines, and names the line and field of each bad one', async () => {
    const pool = await createPool(tarn);
    await makeGroups(pool.id);
    const result = await post(
      pool.id,
      ndjson([
        { email: 'ada@example.test', profile: { name: 'Ada' }, groups: ['staff/engineering'] },
        { email: 'not-an-email' },
        '{"email": "broken json"',
        { email: 'bob@example.test', groups: ['nowhere'] },
        '',
        { email: 'cy@example.test', status: 'asleep', color: 'red' },
        { email: 'dee@example.test', status: 'new', groups: ['Staff'] },
      ]),
    );
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ committed: true, lines: 7, created: 2, updated: 0, skipped: 0, failed: 4 });
    expect(result.body.failures).toEqual([
      { line: 2, errors: [expect.objectContaining({ field: 'email', detail: 'Must be an email address.' })] },
      { line: 3, errors: [expect.objectContaining({ detail: 'The line is not valid JSON.' })] },
      { line: 4, errors: [expect.objectContaining({ field: 'groups.0', detail: 'No group "nowhere" in the pool.' })] },
      {
        line: 6,
        errors: expect.arrayContaining([expect.objectContaining({ field: 'color', detail: 'Unknown field.' }), expect.objectContaining({ field: 'status' })]),
      },
    ]);
    expect(await listEmails(pool.id)).toEqual(['ada@example.test', 'dee@example.test']);
    const ada = (await tarn.admin('GET', `/pools/${pool.id}/users?email=ada@example.test`)).body.items[0];
    const groups = await tarn.admin('GET', `/pools/${pool.id}/users/${ada.id}/groups`);
    expect(groups.body.items.map((group: { name: string }) => group.name).sort()).toEqual(['engineering', 'staff']);
  });

  it("validates profiles against the pool's schema, as user creation does", async () => {
    const pool = await createPool(tarn, {
      profileSchema: { type: 'object', properties: { age: { type: 'integer' } }, additionalProperties: false },
    });
    const result = await post(
      pool.id,
      ndjson([
        { email: 'a@example.test', profile: { age: 'old' } },
        { email: 'b@example.test', profile: { age: 40 } },
      ]),
    );
    expect(result.body).toMatchObject({ created: 1, failed: 1 });
    expect(result.body.failures[0]).toEqual({ line: 1, errors: [expect.objectContaining({ field: 'profile.age' })] });
  });

  it('changes nothing on a dry run, and reports what would happen, conflicts included', async () => {
    const pool = await createPool(tarn);
    await post(pool.id, ndjson([{ email: 'here@example.test' }]));
    const result = await post(pool.id, ndjson([{ email: 'new@example.test' }, { email: 'HERE@example.test' }, { email: 'bad' }]), '?dryRun=true');
    expect(result.body).toMatchObject({ dryRun: true, committed: false, created: 1, failed: 2 });
    expect(result.body.failures[0]).toEqual({
      line: 2,
      errors: [expect.objectContaining({ field: 'email', detail: expect.stringContaining('already exists') })],
    });
    expect(await listEmails(pool.id)).toEqual(['here@example.test']);
  });

  it('skips, updates or fails on existing emails as asked', async () => {
    const pool = await createPool(tarn);
    await post(pool.id, ndjson([{ email: 'one@example.test', profile: { name: 'Old' } }]));
    const skipped = await post(pool.id, ndjson([{ email: 'one@example.test', profile: { name: 'New' } }, { email: 'two@example.test' }]), '?onConflict=skip');
    expect(skipped.body).toMatchObject({ created: 1, skipped: 1, failed: 0, updated: 0 });
    const updated = await post(pool.id, ndjson([{ email: 'One@example.test', profile: { name: 'New' }, status: 'disabled' }]), '?onConflict=update');
    expect(updated.body).toMatchObject({ created: 0, updated: 1, failed: 0 });
    const one = (await tarn.admin('GET', `/pools/${pool.id}/users?email=one@example.test`)).body.items[0];
    expect(one).toMatchObject({ email: 'One@example.test', status: 'disabled', profile: { name: 'New' } });
    const failed = await post(pool.id, ndjson([{ email: 'two@example.test' }]));
    expect(failed.body).toMatchObject({ onConflict: 'fail', created: 0, failed: 1 });
    // The same email twice in one file: the second line meets the first.
    const twice = await post(pool.id, ndjson([{ email: 'three@example.test' }, { email: 'three@example.test' }]));
    expect(twice.body).toMatchObject({ created: 1, failed: 1 });
    expect(twice.body.failures[0].line).toBe(2);
  });

  it('keeps nothing of an atomic import with one bad line, and everything of one without', async () => {
    const pool = await createPool(tarn);
    const bad = await post(pool.id, ndjson([{ email: 'a@example.test' }, { email: 'b@example.test', status: 'zombie' }]), '?atomic=true');
    expect(bad.body).toMatchObject({ atomic: true, committed: false, created: 1, failed: 1 });
    expect(await listEmails(pool.id)).toEqual([]);
    const good = await post(pool.id, ndjson([{ email: 'a@example.test' }, { email: 'b@example.test' }]), '?atomic=true');
    expect(good.body).toMatchObject({ committed: true, created: 2, failed: 0 });
    expect(await listEmails(pool.id)).toEqual(['a@example.test', 'b@example.test']);
  });

  it('reads CSV with a header row, JSON and dotted profile columns, and groups separated by ;', async () => {
    const pool = await createPool(tarn);
    await makeGroups(pool.id);
    const csv = [
      'email,emailVerified,profile.name,metadata,groups',
      'ann@example.test,true,Ann,"{""plan"":""pro""}",staff;staff/engineering',
      'ben@example.test,maybe,Ben,,',
      '"unterminated,,,,',
    ].join('\r\n');
    const result = await post(pool.id, csv, '', 'text/csv');
    expect(result.body).toMatchObject({ created: 1, failed: 2 });
    expect(result.body.failures[0]).toEqual({ line: 3, errors: [expect.objectContaining({ field: 'emailVerified' })] });
    expect(result.body.failures[1].line).toBe(4);
    const ann = (await tarn.admin('GET', `/pools/${pool.id}/users?email=ann@example.test`)).body.items[0];
    expect(ann).toMatchObject({ emailVerified: true, profile: { name: 'Ann' }, metadata: { plan: 'pro' } });
  });

  it('reports a line past the length limit and reads the lines after it', async () => {
    const pool = await createPool(tarn);
    const long = { email: 'long@example.test', metadata: { blob: 'x'.repeat(70_000) } };
    const result = await post(pool.id, ndjson([long, { email: 'after@example.test' }]));
    expect(result.body).toMatchObject({ created: 1, failed: 1 });
    expect(result.body.failures[0]).toEqual({ line: 1, errors: [expect.objectContaining({ detail: expect.stringContaining('longer than') })] });
  });

  it('asks for NDJSON or CSV, names a bad option, and is not found at another pool with a pool secret', async () => {
    const pool = await createPool(tarn);
    const other = await createPool(tarn);
    const json = await post(pool.id, '[]', '', 'application/json');
    expect(json.status).toBe(415);
    expect(json.type).toContain('application/problem+json');
    const option = await post(pool.id, '', '?onConflict=merge');
    expect(option.status).toBe(400);
    expect(option.body.errors[0]).toMatchObject({ field: 'onConflict' });
    const basic = `Basic ${Buffer.from(`${other.id}:${other.secret.value}`).toString('base64')}`;
    expect((await post(pool.id, ndjson([{ email: 'x@example.test' }]), '', 'application/x-ndjson', basic)).status).toBe(404);
    expect((await post(other.id, ndjson([{ email: 'x@example.test' }]), '', 'application/x-ndjson', basic)).body).toMatchObject({ created: 1 });
    expect(await listEmails(pool.id)).toEqual([]);
  });

  it('records who imported how many in the audit log', async () => {
    const pool = await createPool(tarn);
    await post(pool.id, ndjson([{ email: 'a@example.test' }, { email: 'bad' }]));
    const events = await tarn.admin('GET', `/pools/${pool.id}/audit?action=users.import`);
    expect(events.body.items[0]).toMatchObject({
      action: 'users.import',
      actor: { kind: 'admin' },
      details: expect.objectContaining({ format: 'ndjson', created: 1, failed: 1 }),
    });
  });

  it('flags users whose plain password fails the policy when the admin asks for it', async () => {
    const pool = await createPool(tarn, { passwordPolicy: { minLength: 12 } });
    await post(
      pool.id,
      ndjson([
        { email: 'weak@example.test', password: 'short' },
        { email: 'strong@example.test', password: 'long enough password' },
      ]),
      '?requirePasswordChange=true',
    );
    const rows = await tarn.database.handle.db
      .selectFrom('users')
      .select(['email', 'password_change'])
      .where('pool_id', '=', pool.id)
      .orderBy('email')
      .execute();
    expect(rows).toEqual([
      { email: 'strong@example.test', password_change: null },
      { email: 'weak@example.test', password_change: 'required' },
    ]);
  });
});

describe('GET /admin/pools/{pool}/users/export', () => {
  it('streams every user with group paths, and imports back into another pool as it was', async () => {
    const pool = await createPool(tarn);
    await makeGroups(pool.id);
    const lines = Array.from({ length: 1203 }, (_, i) => ({
      email: `u${i}@example.test`,
      password: `password-${i}`.padEnd(12, 'x'),
      groups: i % 2 ? ['engineering'] : [],
    }));
    // Plain passwords are hashed one by one: keep most lines without one.
    const created = await post(pool.id, ndjson(lines.map((line, i) => (i < 3 ? line : { email: line.email, groups: line.groups }))));
    expect(created.body).toMatchObject({ created: 1203, failed: 0 });
    const response = await fetch(`${tarn.url}/admin/pools/${pool.id}/users/export?includePasswordHashes=true`, {
      headers: { authorization: `Bearer ${tarn.adminToken}` },
    });
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const exported = (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(exported).toHaveLength(1203);
    expect(exported.find((user) => user.email === 'u1@example.test')).toMatchObject({
      groups: ['staff/engineering'],
      passwordHashFormat: 'argon2',
      passwordHash: expect.stringMatching(/^\$argon2id\$/),
    });
    expect(exported.find((user) => user.email === 'u4@example.test')).not.toHaveProperty('passwordHash');

    const copy = await createPool(tarn);
    await makeGroups(copy.id);
    const reimported = await post(copy.id, ndjson(exported));
    expect(reimported.body).toMatchObject({ created: 1203, failed: 0 });
    const again = await fetch(`${tarn.url}/admin/pools/${copy.id}/users/export?includePasswordHashes=true`, {
      headers: { authorization: `Bearer ${tarn.adminToken}` },
    });
    const copied = (await again.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(copied).toEqual(exported);
  });

  it('gives password hashes only to the admin token, never to a pool secret', async () => {
    const pool = await createPool(tarn);
    await post(pool.id, ndjson([{ email: 'a@example.test', password: 'a long password' }]));
    const basic = `Basic ${Buffer.from(`${pool.id}:${pool.secret.value}`).toString('base64')}`;
    const refused = await fetch(`${tarn.url}/admin/pools/${pool.id}/users/export?includePasswordHashes=true`, { headers: { authorization: basic } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    const plain = await fetch(`${tarn.url}/admin/pools/${pool.id}/users/export`, { headers: { authorization: basic } });
    const text = await plain.text();
    expect(JSON.parse(text.trim())).toMatchObject({ email: 'a@example.test' });
    expect(text).not.toContain('argon2');
    expect((await fetch(`${tarn.url}/admin/pools/nope-${pool.id}/users/export`, { headers: { authorization: `Bearer ${tarn.adminToken}` } })).status).toBe(404);
  });
});
