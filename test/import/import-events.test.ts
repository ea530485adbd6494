/**
 * What a webhook receives from an import (docs/events.md): one `user.created` for every user
 * the import created and one `user.updated` for every user it overwrote (onConflict=update),
 * written with the batch that stores them, besides the import's own `users.import`. A dry run
 * and an atomic import that failed store nothing and announce no user; when the events cannot
 * be written, the batch is not stored either.
 */
import { sql } from 'kysely';
import { createPool, uniqueId } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { startWebhookReceiver, type ReceivedEvent, type WebhookReceiver } from '../support/webhook-receiver.js';

let tarn: RunningTarn;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  tarn = await startTarn({ OUTGOING_NETWORKS: 'loopback', WEBHOOK_POLL_INTERVAL_MS: '100' });
  tarn.tarn.webhookWorker.start();
});
afterAll(async () => {
  await tarn?.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function post(poolId: string, lines: unknown[], query = '') {
  const response = await fetch(`${tarn.url}/admin/pools/${poolId}/users/import${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/x-ndjson' },
    body: lines.map((line) => JSON.stringify(line)).join('\n'),
  });
  return { status: response.status, body: await response.json() };
}

/** A pool whose webhook wants every user event and the import's own. */
async function poolWithReceiver() {
  const pool = await createPool(tarn);
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const hook = await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: receiver.url, eventTypes: ['user.*', 'users.import'] });
  expect(hook.status).toBe(201);
  receiver.secrets.push((hook.body.secret as { value: string }).value);
  return { pool, receiver };
}

async function usersByEmail(poolId: string): Promise<Map<string, { id: string; status: string }>> {
  const { body } = await tarn.admin('GET', `/pools/${poolId}/users?limit=100`);
  return new Map((body.items as { id: string; email: string; status: string }[]).map((user) => [user.email, user]));
}

async function eventsOf(poolId: string): Promise<{ action: string; target: { id: string } | null }[]> {
  return (await tarn.admin('GET', `/pools/${poolId}/audit?limit=200`)).body.items;
}

const ofType = (received: ReceivedEvent[], type: string) => received.filter((event) => event.type === type);

it('delivers one user.created for each imported user, with the right subject, and the import once', async () => {
  const { pool, receiver } = await poolWithReceiver();
  const emails = ['ada', 'bob', 'cy'].map((name) => `${name}-${uniqueId('i')}@example.test`);
  const result = await post(pool.id, [
    { email: emails[0] },
    { email: emails[1], status: 'new' },
    { email: emails[2], password: 'correct horse battery staple' },
  ]);
  expect(result.body).toMatchObject({ committed: true, created: 3, failed: 0 });

  const received = await receiver.until((all) => ofType(all, 'user.created').length >= 3 && ofType(all, 'users.import').length >= 1, 'the import');
  const users = await usersByEmail(pool.id);
  const created = ofType(received, 'user.created');
  expect(created.map((event) => event.data.subject).sort((a, b) => a!.id!.localeCompare(b!.id!))).toEqual(
    emails.map((email) => ({ type: 'user', id: users.get(email)!.id })).sort((a, b) => a.id.localeCompare(b.id)),
  );
  for (const event of created) {
    const user = [...users.values()].find((candidate) => candidate.id === event.data.subject!.id)!;
    expect(event.data).toMatchObject({ pool: pool.id, outcome: 'success', actor: { kind: 'admin', id: null } });
    expect(event.data.details).toEqual({ method: 'POST', route: '/admin/pools/:pool/users/import', via: 'import', status: user.status });
  }
  // Each event once, each with its own id; and the import's report besides.
  expect(new Set(created.map((event) => event.webhookId)).size).toBe(3);
  expect(ofType(received, 'users.import')).toEqual([
    expect.objectContaining({ data: expect.objectContaining({ details: expect.objectContaining({ created: 3 }) }) }),
  ]);
  expect(receiver.unverified).toBe(0);
});

it('delivers user.updated for the users an import overwrote, and user.created for the new ones', async () => {
  const { pool, receiver } = await poolWithReceiver();
  const known = `known-${uniqueId('i')}@example.test`;
  const fresh = `fresh-${uniqueId('i')}@example.test`;
  expect((await post(pool.id, [{ email: known, profile: { name: 'Before' } }])).body).toMatchObject({ created: 1 });
  await receiver.until((all) => ofType(all, 'user.created').length === 1, 'the first import');

  const result = await post(pool.id, [{ email: known, profile: { name: 'After' } }, { email: fresh }], '?onConflict=update');
  expect(result.body).toMatchObject({ committed: true, created: 1, updated: 1 });
  const received = await receiver.until((all) => ofType(all, 'user.created').length === 2 && ofType(all, 'user.updated').length === 1, 'the second import');
  const users = await usersByEmail(pool.id);
  expect(ofType(received, 'user.updated').map((event) => event.data.subject)).toEqual([{ type: 'user', id: users.get(known)!.id }]);
  expect(ofType(received, 'user.created').map((event) => event.data.subject!.id)).toContain(users.get(fresh)!.id);

  // Skipped on conflict: nothing happened to the user, and no event says otherwise.
  const skipped = await post(pool.id, [{ email: known, profile: { name: 'Ignored' } }], '?onConflict=skip');
  expect(skipped.body).toMatchObject({ created: 0, updated: 0, skipped: 1 });
  const actions = (await eventsOf(pool.id)).map((event) => event.action);
  expect(actions.filter((action) => action === 'user.updated')).toHaveLength(1);
  expect(actions.filter((action) => action === 'user.created')).toHaveLength(2);
});

it('announces no user of a dry run or of an atomic import that failed', async () => {
  const { pool, receiver } = await poolWithReceiver();
  const dry = await post(pool.id, [{ email: `dry-${uniqueId('i')}@example.test` }], '?dryRun=true');
  expect(dry.body).toMatchObject({ committed: false, created: 1 });
  const atomic = await post(pool.id, [{ email: `atomic-${uniqueId('i')}@example.test` }, { email: 'not an email' }], '?atomic=true');
  expect(atomic.body).toMatchObject({ committed: false, failed: 1 });
  // Then a real import: its one user is the only one the receiver ever hears of.
  const real = `real-${uniqueId('i')}@example.test`;
  expect((await post(pool.id, [{ email: real }], '?atomic=true')).body).toMatchObject({ committed: true, created: 1 });
  await receiver.until((all) => ofType(all, 'users.import').length === 3 && ofType(all, 'user.created').length === 1, 'the imports');

  const users = await usersByEmail(pool.id);
  expect([...users.keys()]).toEqual([real]);
  expect((await eventsOf(pool.id)).filter((event) => event.action.startsWith('user.')).map((event) => event.target?.id)).toEqual([users.get(real)!.id]);
  expect(ofType(receiver.received, 'user.created').map((event) => event.data.subject!.id)).toEqual([users.get(real)!.id]);
});

it('stores no batch whose events cannot be written', async () => {
  const { pool } = await poolWithReceiver();
  const db = tarn.database.handle.db;
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION test_refuse_import_event() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.pool_id = '${pool.id}' AND NEW.action = 'user.created' THEN RAISE EXCEPTION 'the event store refuses this event'; END IF;
         RETURN NEW;
       END $$`,
    )
    .execute(db);
  await sql.raw('CREATE TRIGGER test_refuse_import_event BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_import_event()').execute(db);
  try {
    const refused = await post(pool.id, [{ email: `a-${uniqueId('i')}@example.test` }, { email: `b-${uniqueId('i')}@example.test` }]);
    expect(refused.status).toBe(500);
    const existing = `c-${uniqueId('i')}@example.test`;
    await sql`DROP TRIGGER test_refuse_import_event ON audit_events`.execute(db);
    expect((await post(pool.id, [{ email: existing }])).body).toMatchObject({ created: 1 });
    await sql.raw('CREATE TRIGGER test_refuse_import_event BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_import_event()').execute(db);
    // A batch that meets an existing user goes through ON CONFLICT: refused the same way.
    const again = await post(pool.id, [{ email: existing }, { email: `d-${uniqueId('i')}@example.test` }], '?onConflict=skip');
    expect(again.status).toBe(500);
    expect([...(await usersByEmail(pool.id)).keys()]).toEqual([existing]);
  } finally {
    await sql`DROP TRIGGER IF EXISTS test_refuse_import_event ON audit_events`.execute(db);
    await sql`DROP FUNCTION test_refuse_import_event()`.execute(db);
  }
  expect((await eventsOf(pool.id)).filter((event) => event.action === 'user.created')).toHaveLength(1);
});
