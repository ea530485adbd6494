/**
 * A lock that runs out is an event (docs/events.md): `user.unlocked`, actor `system`, written
 * by the sweep of the delivery workers with the release of the lock, once, even with two
 * instances on one database. Time is a clock the test moves (no sleeping through a lock), and
 * the receiver is a real HTTP server verifying each delivery with `standardwebhooks`.
 */
import { randomBytes } from 'node:crypto';
import { Browser } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { startWebhookReceiver, type ReceivedEvent, type WebhookReceiver } from '../support/webhook-receiver.js';

let now = Date.now();
const clock = () => new Date(now);
let database: TestDatabase;
let a: RunningTarn;
let b: RunningTarn;
let receiver: WebhookReceiver;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = { TARN_MASTER_KEY: randomBytes(32).toString('hex'), OUTGOING_NETWORKS: 'loopback', WEBHOOK_POLL_INTERVAL_MS: '100' };
  a = await startTarn(env, database, { clock });
  b = await startTarn(env, database, { clock });
  a.tarn.webhookWorker.start();
  b.tarn.webhookWorker.start();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await receiver?.close();
  await database?.drop();
});

/** Whether the account page lets this email and password in (a fresh browser). */
async function signsIn(tarn: RunningTarn, poolId: string, email: string, password: string): Promise<boolean> {
  const browser = new Browser(tarn.url);
  const login = await browser.get(`/pools/${poolId}/account`);
  const answer = await browser.submit(login, { email, password });
  return answer.html.includes('http-equiv="refresh"');
}

const ofType = (received: ReceivedEvent[], type: string) => received.filter((event) => event.type === type);

it('announces a lock that ran out once, as the system, and the user signs in again', async () => {
  const pool = await createPool(a, { lockout: { maxAttempts: 2, windowSeconds: 600 } });
  const hook = await a.admin('POST', `/pools/${pool.id}/webhooks`, { url: receiver.url, eventTypes: ['user.locked', 'user.unlocked', 'webhook.test'] });
  expect(hook.status).toBe(201);
  receiver.secrets.push((hook.body.secret as { value: string }).value);
  const user = await createUser(a, pool.id);

  // Two wrong passwords, one on each instance: locked for the window (600 s).
  expect(await signsIn(a, pool.id, user.email, 'wrong password 1')).toBe(false);
  expect(await signsIn(b, pool.id, user.email, 'wrong password 2')).toBe(false);
  const [locked] = ofType(await receiver.until((all) => ofType(all, 'user.locked').length === 1, 'user.locked'), 'user.locked');
  const lockedUntil = locked!.data.details.lockedUntil as string;
  expect(new Date(lockedUntil).getTime()).toBe(now + 600_000);
  expect(await signsIn(a, pool.id, user.email, user.password)).toBe(false);

  // Almost over: still locked (an attempt now would extend the lock, as every failure in a lock does).
  now += 599_000;
  expect((await a.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: true });

  // The lock runs out: one of the instances releases it and says so.
  now += 2_000;
  const unlocked = ofType(await receiver.until((all) => ofType(all, 'user.unlocked').length >= 1, 'user.unlocked'), 'user.unlocked');
  expect(unlocked).toHaveLength(1);
  expect(unlocked[0]!.data).toMatchObject({
    pool: pool.id,
    outcome: 'success',
    actor: { kind: 'system', id: null },
    subject: { type: 'user', id: user.id },
    details: { lockedUntil, expired: true },
  });
  expect((await a.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: false, lockedUntil: null });

  // Nothing is left to release on either instance, and a test event sent after it arrives with no second user.unlocked.
  expect(await a.tarn.services.guard.releaseExpiredLocks()).toBe(0);
  expect(await b.tarn.services.guard.releaseExpiredLocks()).toBe(0);
  expect((await a.admin('POST', `/pools/${pool.id}/webhooks/${hook.body.id}/test`)).status).toBe(202);
  await receiver.until((all) => ofType(all, 'webhook.test').length === 1, 'the test event');
  expect(ofType(receiver.received, 'user.unlocked')).toHaveLength(1);
  const trail = (await a.admin('GET', `/pools/${pool.id}/audit?action=user.unlocked`)).body.items;
  expect(trail).toEqual([expect.objectContaining({ actor: { kind: 'system', id: null }, target: { type: 'user', id: user.id } })]);

  // The user signs in again; a later failure starts a new count, not a new lock.
  expect(await signsIn(b, pool.id, user.email, user.password)).toBe(true);
  expect(await signsIn(a, pool.id, user.email, 'wrong password 3')).toBe(false);
  expect((await a.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: false, failures: 1 });
  expect(receiver.unverified).toBe(0);
});

it('announces an expired lock even when the user signed in before the sweep saw it', async () => {
  const pool = await createPool(a, { lockout: { maxAttempts: 1, windowSeconds: 60 } });
  const user = await createUser(a, pool.id);
  // Only this instance sweeps here, when the test asks it to.
  await a.tarn.webhookWorker.stop();
  await b.tarn.webhookWorker.stop();
  try {
    expect(await signsIn(a, pool.id, user.email, 'wrong password')).toBe(false);
    now += 61_000;
    expect(await signsIn(a, pool.id, user.email, user.password)).toBe(true);
    expect(await a.tarn.services.guard.releaseExpiredLocks()).toBe(1);
  } finally {
    a.tarn.webhookWorker.start();
    b.tarn.webhookWorker.start();
  }
  const trail = (await a.admin('GET', `/pools/${pool.id}/audit?action=user.*`)).body.items.map((item: { action: string }) => item.action);
  expect(trail).toEqual(['user.unlocked', 'user.locked', 'user.created']);
});
