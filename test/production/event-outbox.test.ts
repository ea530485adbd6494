/**
 * The outbox guarantee (ADR 0809): an admin change and its event, with the event's webhook
 * deliveries, commit together or not at all. The database is made to refuse one side with
 * a trigger, and the other side must then be missing too:
 * - the event insert fails → the change is rolled back (no change without its event);
 * - the change fails at commit, after its event was written → the event is gone too
 *   (no event without its change).
 * The same holds for a user's own changes on the account page, for the lock that repeated
 * sign-in failures cause (written by the system), and for the admin's connections, branding
 * assets, mail templates and session ends.
 */
import { sql } from 'kysely';
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, createUser, uniqueId } from '../support/fixtures.js';
import { onePixelPng } from '../support/images.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn({ OUTGOING_NETWORKS: 'loopback' });
});
afterAll(async () => {
  await tarn?.close();
});

const db = () => tarn.database.handle.db;

/** Runs statements one at a time (PGlite's extended protocol takes one command per query). */
async function run(...statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db());
}

/** Refuses every successful event of one pool (failures still go in: the trail of the refused request). */
async function refuseEventsOf(poolId: string): Promise<() => Promise<void>> {
  await run(
    `CREATE OR REPLACE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF NEW.pool_id = '${poolId}' AND NEW.outcome = 'success' THEN RAISE EXCEPTION 'the event store refuses this event'; END IF;
       RETURN NEW;
     END $$`,
    'CREATE TRIGGER test_refuse_event BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_event()',
  );
  return () => run('DROP TRIGGER test_refuse_event ON audit_events', 'DROP FUNCTION test_refuse_event()');
}

/** Fails the commit of any transaction that changed a row of `table` in this pool: after the change and its event were both written. */
async function failCommitOf(table: string, poolId: string): Promise<() => Promise<void>> {
  await run(
    `CREATE OR REPLACE FUNCTION test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF coalesce(NEW.pool_id, OLD.pool_id) = '${poolId}' THEN RAISE EXCEPTION 'the change fails at commit'; END IF;
       RETURN NULL;
     END $$`,
    `CREATE CONSTRAINT TRIGGER test_fail_commit AFTER INSERT OR UPDATE OR DELETE ON ${table}
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_commit()`,
  );
  return () => run(`DROP TRIGGER test_fail_commit ON ${table}`, 'DROP FUNCTION test_fail_commit()');
}

async function eventsOf(poolId: string): Promise<{ action: string; outcome: string; details: Record<string, unknown>; actor: unknown; target: unknown }[]> {
  const response = await tarn.admin('GET', `/pools/${poolId}/audit?limit=200`);
  expect(response.status).toBe(200);
  return response.body.items;
}

async function deliveriesOf(poolId: string): Promise<number> {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE pool_id = ${poolId}`.execute(db());
  return result.rows[0]!.n;
}

it('rolls every admin change back when its event cannot be written', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const app = await createClient(tarn, pool.id);
  const clientBefore = (await tarn.admin('GET', `/pools/${pool.id}/clients/${app.clientId}`)).body;
  const group = await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Staff' });
  const hook = await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] });
  expect(hook.status).toBe(201);
  const keysBefore = (await tarn.admin('GET', `/pools/${pool.id}/keys`)).body.items;
  const secretsBefore = (await tarn.admin('GET', `/pools/${pool.id}/secrets`)).body.items;
  const deliveriesBefore = await deliveriesOf(pool.id);
  const eventsBefore = (await eventsOf(pool.id)).length;

  const restore = await refuseEventsOf(pool.id);
  try {
    const email = `${uniqueId('never')}@example.test`;
    const attempts = {
      'create a user': await tarn.admin('POST', `/pools/${pool.id}/users`, { email, mode: 'password', password: 'correct horse battery staple' }),
      'disable a user': await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' }),
      'delete a user': await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}`),
      'add a member': await tarn.admin('PUT', `/pools/${pool.id}/groups/${group.body.id}/members/${user.id}`),
      'rename a client': await tarn.admin('PATCH', `/pools/${pool.id}/clients/${app.clientId}`, { name: 'Never renamed' }),
      "rotate a client's secret": await tarn.admin('POST', `/pools/${pool.id}/clients/${app.clientId}/secret/rotate`),
      'rotate the keys': await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, { revoke: true }),
      'rotate the secrets': await tarn.admin('POST', `/pools/${pool.id}/secrets/rotate`),
      'disable a webhook': await tarn.admin('PATCH', `/pools/${pool.id}/webhooks/${hook.body.id}`, { enabled: false }),
    };
    for (const [what, answer] of Object.entries(attempts)) expect([what, answer.status]).toEqual([what, 500]);
  } finally {
    await restore();
  }

  // Nothing of it happened.
  expect((await tarn.admin('GET', `/pools/${pool.id}/users?limit=100`)).body.items.map((row: { id: string }) => row.id)).toEqual([user.id]);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`)).body.status).toBe('active');
  expect((await tarn.admin('GET', `/pools/${pool.id}/groups/${group.body.id}/members`)).body.items).toEqual([]);
  // Neither renamed nor given a new secret (secretRotatedAt unchanged).
  expect((await tarn.admin('GET', `/pools/${pool.id}/clients/${app.clientId}`)).body).toEqual(clientBefore);
  expect((await tarn.admin('GET', `/pools/${pool.id}/keys`)).body.items).toEqual(keysBefore);
  expect((await tarn.admin('GET', `/pools/${pool.id}/secrets`)).body.items).toEqual(secretsBefore);
  expect((await tarn.admin('GET', `/pools/${pool.id}/webhooks/${hook.body.id}`)).body.enabled).toBe(true);
  // Only the refusals are on record, and nothing was queued for the webhook.
  const after = await eventsOf(pool.id);
  expect(after.slice(0, after.length - eventsBefore).map((item) => item.outcome)).toEqual(Array(9).fill('failure'));
  expect(await deliveriesOf(pool.id)).toBe(deliveriesBefore + 9);
});

it('leaves no event (and no delivery) behind when the change fails after its event was written', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/hook', eventTypes: ['user.*'] });
  const deliveriesBefore = await deliveriesOf(pool.id);

  const restoreUsers = await failCommitOf('users', pool.id);
  try {
    expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' })).status).toBe(500);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}`)).status).toBe(500);
    const created = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: `${uniqueId('gone')}@example.test`, mode: 'invite' });
    expect(created.status).toBe(500);
  } finally {
    await restoreUsers();
  }
  const restoreClients = await failCommitOf('clients', pool.id);
  try {
    expect((await tarn.admin('POST', `/pools/${pool.id}/clients`, { name: 'Never', redirectUris: ['http://rp.example.test/callback'] })).status).toBe(500);
  } finally {
    await restoreClients();
  }

  const actions = (await eventsOf(pool.id)).map((item) => `${item.action} ${item.outcome}`);
  for (const lost of ['user.disabled', 'user.deleted', 'user.invited', 'clients.create']) expect(actions).not.toContain(`${lost} success`);
  expect(actions.slice(0, 4)).toEqual(['clients.create failure', 'users.create failure', 'users.delete failure', 'users.update failure']);
  expect(await deliveriesOf(pool.id)).toBe(deliveriesBefore);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`)).body.status).toBe('active');
  expect((await tarn.admin('GET', `/pools/${pool.id}/clients`)).body.items).toHaveLength(0);
});

/** A browser signed in to the pool's account page, on the password form. */
async function onPasswordPage(poolId: string, user: { email: string; password: string }) {
  const browser = new Browser(tarn.url);
  const login = await browser.get(`/pools/${poolId}/account`);
  expect((await browser.submit(login, { email: user.email, password: user.password })).html).toContain('http-equiv="refresh"');
  const page = await browser.get(`/pools/${poolId}/account/password`);
  expect(visibleText(page.html)).toContain('Change your password');
  return { browser, page };
}

/** Whether the account page lets this email and password in (a fresh browser). */
async function signsIn(poolId: string, email: string, password: string): Promise<boolean> {
  const browser = new Browser(tarn.url);
  const login = await browser.get(`/pools/${poolId}/account`);
  const answer = await browser.submit(login, { email, password });
  return answer.html.includes('http-equiv="refresh"');
}

/** One wrong password on the account page's sign-in, in a fresh browser: its status. */
async function wrongSignIn(poolId: string, email: string, attempt: number): Promise<number> {
  const browser = new Browser(tarn.url);
  const login = await browser.get(`/pools/${poolId}/account`);
  return (await browser.submit(login, { email, password: `wrong password ${attempt}` })).status;
}

it("keeps the user's password when the account page's change or its event fails", async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/hook', eventTypes: ['user.*'] });
  const { browser, page } = await onPasswordPage(pool.id, user);
  const deliveriesBefore = await deliveriesOf(pool.id);
  const newPassword = 'a brand new password here';

  const restore = await refuseEventsOf(pool.id);
  try {
    const refused = await browser.submit(page, { current_password: user.password, password: newPassword }, '/account/password');
    expect(refused.status).toBe(500);
  } finally {
    await restore();
  }
  const restoreUsers = await failCommitOf('users', pool.id);
  try {
    const failed = await browser.submit(page, { current_password: user.password, password: newPassword }, '/account/password');
    expect(failed.status).toBe(500);
  } finally {
    await restoreUsers();
  }

  // The old password still works, the new one does not, and nothing announced a change.
  expect(await signsIn(pool.id, user.email, user.password)).toBe(true);
  expect(await signsIn(pool.id, user.email, newPassword)).toBe(false);
  expect((await eventsOf(pool.id)).map((item) => item.action)).not.toContain('user.password_changed');
  expect(await deliveriesOf(pool.id)).toBe(deliveriesBefore);

  // Then it works: the change and its one event, delivered to the webhook.
  const changed = await browser.submit(page, { current_password: user.password, password: newPassword }, '/account/password');
  expect(changed.status).toBeLessThan(400);
  expect(await signsIn(pool.id, user.email, newPassword)).toBe(true);
  const changes = (await eventsOf(pool.id)).filter((item) => item.action === 'user.password_changed');
  expect(changes).toEqual([expect.objectContaining({ outcome: 'success', details: { via: 'account_page' } })]);
  expect(await deliveriesOf(pool.id)).toBeGreaterThan(deliveriesBefore);
});

it('locks a user only together with user.locked, and counts other failures without it', async () => {
  const pool = await createPool(tarn, { lockout: { maxAttempts: 2, windowSeconds: 600 } });
  const user = await createUser(tarn, pool.id);
  const lockout = async () => (await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body as { locked: boolean; failures: number };
  const locks = async () => (await eventsOf(pool.id)).filter((item) => item.action === 'user.locked');

  const restore = await refuseEventsOf(pool.id);
  try {
    // The first failure does not lock: it is counted, with no event to write.
    expect(await wrongSignIn(pool.id, user.email, 1)).toBe(401);
    expect(await lockout()).toMatchObject({ locked: false, failures: 1 });
    // The second would lock, but its event cannot be written: neither happens.
    expect(await wrongSignIn(pool.id, user.email, 2)).toBe(500);
    expect(await lockout()).toMatchObject({ locked: false, failures: 1 });
  } finally {
    await restore();
  }
  const restoreLockouts = await failCommitOf('user_lockouts', pool.id);
  try {
    // The lock fails at commit, after user.locked was written: the event goes with it.
    expect(await wrongSignIn(pool.id, user.email, 3)).toBe(500);
  } finally {
    await restoreLockouts();
  }
  expect(await lockout()).toMatchObject({ locked: false, failures: 1 });
  expect(await locks()).toEqual([]);

  // Now the lock and its event, once; a later failure extends the lock without another event.
  expect(await wrongSignIn(pool.id, user.email, 4)).toBe(401);
  expect(await lockout()).toMatchObject({ locked: true, failures: 2 });
  expect(await wrongSignIn(pool.id, user.email, 5)).toBe(401);
  expect(await lockout()).toMatchObject({ locked: true, failures: 3 });
  expect(await locks()).toEqual([expect.objectContaining({ outcome: 'success', actor: { kind: 'system', id: null }, target: { type: 'user', id: user.id } })]);
  expect(await signsIn(pool.id, user.email, user.password)).toBe(false);
});

it("rolls the admin's connections, branding, mail templates and session ends back when their events cannot be written", async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  // The user signs in on the account page: a session an admin can end.
  expect(await signsIn(pool.id, user.email, user.password)).toBe(true);
  const connection = await tarn.admin('POST', `/pools/${pool.id}/connections`, { name: 'github', preset: 'github', clientId: 'c', clientSecret: 's' });
  expect(connection.status).toBe(201);
  const template = { subject: 'Code {{code}}', html: '<p>{{code}}</p>', text: '{{code}}' };
  expect((await tarn.admin('PUT', `/pools/${pool.id}/mail-templates/verification/en`, template)).status).toBe(200);
  const read = async () => ({
    connections: (await tarn.admin('GET', `/pools/${pool.id}/connections`)).body,
    branding: (await tarn.admin('GET', `/pools/${pool.id}/branding`)).body,
    templates: (await tarn.admin('GET', `/pools/${pool.id}/mail-templates`)).body,
    sessions: (await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/sessions`)).body.items,
  });
  const before = await read();
  expect(before.sessions).toHaveLength(1);
  const eventsBefore = (await eventsOf(pool.id)).length;

  const restore = await refuseEventsOf(pool.id);
  try {
    const at = `/pools/${pool.id}`;
    const attempts = {
      'create a connection': await tarn.admin('POST', `${at}/connections`, { name: 'other', preset: 'github', clientId: 'd', clientSecret: 't' }),
      'hide a connection': await tarn.admin('PATCH', `${at}/connections/${connection.body.id}`, { hidden: true }),
      'delete a connection': await tarn.admin('DELETE', `${at}/connections/${connection.body.id}`),
      'upload a logo': await tarn.admin('PUT', `${at}/branding/logo`, { mediaType: 'image/png', data: onePixelPng([11, 92, 173]).toString('base64') }),
      'change a mail template': await tarn.admin('PUT', `${at}/mail-templates/verification/en`, { ...template, subject: 'Never {{code}}' }),
      'delete a mail template': await tarn.admin('DELETE', `${at}/mail-templates/verification/en`),
      "end a user's session": await tarn.admin('DELETE', `${at}/users/${user.id}/sessions/${before.sessions[0].id}`),
      "end all a user's sessions": await tarn.admin('DELETE', `${at}/users/${user.id}/sessions`),
    };
    for (const [what, answer] of Object.entries(attempts)) expect([what, answer.status]).toEqual([what, 500]);
  } finally {
    await restore();
  }

  expect(await read()).toEqual(before);
  const after = await eventsOf(pool.id);
  expect(after.slice(0, after.length - eventsBefore).map((item) => item.outcome)).toEqual(Array(8).fill('failure'));
});

it("rolls the pool's creation and changes, a factor's removal, a reset mail's and an invitation's code back when their events cannot be written", async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const invited = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: `${uniqueId('new')}@example.test`, mode: 'invite' });
  expect(invited.status).toBe(201);
  // An authenticator app the user enrolled (stored as enrolment leaves it).
  await sql`INSERT INTO user_totp (pool_id, user_id, secret_enc, confirmed_at) VALUES (${pool.id}, ${user.id}, 'sealed', now())`.execute(db());
  await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] });
  const codes = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM one_time_codes WHERE pool_id = ${pool.id}`.execute(db())).rows[0]!.n;
  const read = async () => ({
    pool: (await tarn.admin('GET', `/pools/${pool.id}`)).body,
    factors: (await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/factors`)).body.items,
    codes: await codes(),
  });
  const before = await read();
  expect(before.factors).toEqual([expect.objectContaining({ id: 'totp' })]);
  const eventsBefore = (await eventsOf(pool.id)).length;
  const deliveriesBefore = await deliveriesOf(pool.id);
  const newPool = uniqueId('never');

  const restore = await refuseEventsOf(pool.id);
  try {
    const at = `/pools/${pool.id}`;
    const attempts = {
      'rename the pool': await tarn.admin('PATCH', at, { name: 'Never renamed' }),
      "remove the user's app": await tarn.admin('DELETE', `${at}/users/${user.id}/factors/totp`),
      'send a reset mail': await tarn.admin('POST', `${at}/users/${user.id}/password-reset`),
      'invite in bulk': await tarn.admin('POST', `${at}/users/invitations`, { userIds: [invited.body.id], resend: true }),
    };
    for (const [what, answer] of Object.entries(attempts)) expect([what, answer.status]).toEqual([what, 500]);
  } finally {
    await restore();
  }
  // A pool whose creation cannot be recorded is not created.
  const refuseNew = await refuseEventsOf(newPool);
  try {
    expect((await tarn.admin('POST', '/pools', { id: newPool, name: 'Never' })).status).toBe(500);
  } finally {
    await refuseNew();
  }
  expect((await tarn.admin('GET', `/pools/${newPool}`)).status).toBe(404);

  expect(await read()).toEqual(before);
  const after = await eventsOf(pool.id);
  expect(after.slice(0, after.length - eventsBefore).map((item) => item.outcome)).toEqual(Array(4).fill('failure'));
  expect(await deliveriesOf(pool.id)).toBe(deliveriesBefore + 4);

  // Then each works, with its event.
  expect((await tarn.admin('PATCH', `/pools/${pool.id}`, { name: 'Renamed' })).status).toBe(200);
  expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/factors/totp`)).status).toBe(204);
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/factors`)).body.items).toEqual([]);
  const actions = (await eventsOf(pool.id)).slice(0, 2).map((item) => `${item.action} ${item.outcome}`);
  expect(actions).toEqual(['users.factors.delete success', 'pool.update success']);
});
