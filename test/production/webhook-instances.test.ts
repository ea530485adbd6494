/**
 * Webhook delivery across instances and faults (ADR 0809): two real Tarn processes on one
 * PostgreSQL server of the test's own. Each event is delivered once although both workers
 * claim; an instance killed (SIGKILL) in the middle of a delivery leaves its claim to run out,
 * and another instance delivers the event; the database stopped and started again loses no
 * event and leaves no change without its event. The receiver verifies every request with the
 * `standardwebhooks` package.
 */
import { randomBytes } from 'node:crypto';
import { waitFor } from '../support/tarn-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { startPostgresServer, type PostgresServer } from './support/postgres-server.js';
import { startTarnProcess, type TarnProcess } from './support/tarn-process.js';

let postgres: PostgresServer;
let a: TarnProcess;
let b: TarnProcess;
let to: WebhookReceiver;
let env: Record<string, string>;
const adminToken = `adm_${randomBytes(16).toString('hex')}`;

async function admin(instance: TarnProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${instance.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function deliveriesOf(instance: TarnProcess, poolId: string, webhookId: string) {
  const response = await admin(instance, 'GET', `/pools/${poolId}/webhooks/${webhookId}/deliveries?limit=200`);
  expect(response.status).toBe(200);
  return response.body.items as { eventId: string; status: string; attempts: number; attemptLog: { statusCode: number | null }[] }[];
}

async function poolWithWebhook(instance: TarnProcess, eventTypes = ['groups.create']) {
  const pool = await admin(instance, 'POST', '/pools', { id: `pool-${randomBytes(3).toString('hex')}`, name: 'Hooked' });
  expect(pool.status).toBe(201);
  const hook = await admin(instance, 'POST', `/pools/${pool.body.id}/webhooks`, { url: to.url, eventTypes });
  expect(hook.status).toBe(201);
  to.secrets.push(hook.body.secret.value as string);
  return { poolId: pool.body.id as string, webhookId: hook.body.id as string };
}

beforeAll(async () => {
  postgres = await startPostgresServer();
  to = await startWebhookReceiver();
  env = {
    DATABASE_URL: await postgres.createDatabase('tarn_webhooks'),
    PUBLIC_URL: 'http://127.0.0.1:8080',
    TARN_ADMIN_TOKEN: adminToken,
    TARN_MASTER_KEY: randomBytes(32).toString('hex'),
    OUTGOING_NETWORKS: 'loopback',
    // A claim's lease is twice the outgoing timeout plus 5 s: 7 s here.
    OUTGOING_TIMEOUT_MS: '1000',
    WEBHOOK_POLL_INTERVAL_MS: '100',
    WEBHOOK_RETRY_BASE_MS: '300',
    WEBHOOK_RETRY_MAX_DELAY_MS: '1000',
  };
  a = await startTarnProcess(0, env);
  b = await startTarnProcess(0, env);
}, 180_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await to?.close();
  await postgres?.destroy();
});

it('delivers each event once while both instances claim deliveries', async () => {
  const { poolId, webhookId } = await poolWithWebhook(a);
  const groupIds: string[] = [];
  for (let i = 0; i < 30; i += 1) {
    const created = await admin(i % 2 ? a : b, 'POST', `/pools/${poolId}/groups`, { name: `Group ${i}` });
    expect(created.status).toBe(201);
    groupIds.push(created.body.id as string);
  }
  await waitFor(async () => (await deliveriesOf(b, poolId, webhookId)).filter((item) => item.status === 'delivered').length === 30, 'thirty deliveries');
  const mine = to.received.filter((item) => item.data.pool === poolId);
  expect(mine.map((item) => item.data.subject?.id).sort()).toEqual([...groupIds].sort());
  expect(new Set(mine.map((item) => item.webhookId)).size).toBe(30);
  expect((await deliveriesOf(a, poolId, webhookId)).every((item) => item.attempts === 1)).toBe(true);
}, 120_000);

it('delivers an event whose instance was killed in the middle of sending it', async () => {
  const { poolId, webhookId } = await poolWithWebhook(a);
  await b.stop(); // only A's worker is left to claim
  to.hang(true);
  const created = await admin(a, 'POST', `/pools/${poolId}/groups`, { name: 'Sent while dying' });
  expect(created.status).toBe(201);
  await waitFor(() => to.held > 0, 'the delivery to reach the receiver');
  expect(await a.stop('SIGKILL')).toBeNull();
  to.hang(false);
  // Another instance finds the claim once its lease has run out, and delivers.
  b = await startTarnProcess(0, env);
  const received = await to.until((items) => items.some((item) => item.data.subject?.id === created.body.id), 'the event after the kill', 60_000);
  expect(received.filter((item) => item.data.subject?.id === created.body.id)).toHaveLength(1);
  await waitFor(async () => (await deliveriesOf(b, poolId, webhookId)).some((item) => item.status === 'delivered'), 'the log to say delivered');
  const [log] = await deliveriesOf(b, poolId, webhookId);
  // The killed attempt left no record; the one that succeeded is attempt 2.
  expect(log).toEqual(expect.objectContaining({ status: 'delivered', attempts: 2 }));
  a = await startTarnProcess(0, env);
}, 180_000);

it('loses no event and leaves no change without its event when the database stops and comes back', async () => {
  const { poolId, webhookId } = await poolWithWebhook(a, ['*']);
  const before = await admin(a, 'POST', `/pools/${poolId}/groups`, { name: 'Before' });
  expect(before.status).toBe(201);
  await postgres.stop('immediate');
  const during = await admin(a, 'POST', `/pools/${poolId}/groups`, { name: 'During' });
  expect(during.status).toBe(503);
  await postgres.start();
  let after = await admin(b, 'POST', `/pools/${poolId}/groups`, { name: 'After' });
  await waitFor(async () => {
    if (after.status !== 201) after = await admin(b, 'POST', `/pools/${poolId}/groups`, { name: 'After' });
    return after.status === 201;
  }, 'the database to answer again');

  const groups = (await admin(a, 'GET', `/pools/${poolId}/groups?limit=100`)).body.items as { id: string; name: string }[];
  expect(groups.map((group) => group.name).sort()).toEqual(['After', 'Before']);
  const events = (await admin(a, 'GET', `/pools/${poolId}/audit?action=groups.create&limit=100`)).body.items as { target: { id: string } }[];
  expect(events.map((event) => event.target.id).sort()).toEqual(groups.map((group) => group.id).sort());
  // Every event of the pool's log reaches the receiver.
  await waitFor(async () => (await deliveriesOf(a, poolId, webhookId)).every((item) => item.status === 'delivered'), 'every delivery done', 60_000);
  const all = (await admin(a, 'GET', `/pools/${poolId}/audit?limit=100`)).body.items as { id: string; action: string }[];
  // From the webhook's own creation on (its event is the first it receives), every event of the log arrived.
  const since = all.find((event) => event.action === 'webhooks.create')!.id;
  const expected = all.filter((event) => event.id >= since).map((event) => event.id);
  const received = to.received.filter((item) => item.data.pool === poolId).map((item) => item.webhookId);
  expect([...new Set(received)].sort()).toEqual(expected.sort());
  expect(expected.length).toBeGreaterThanOrEqual(3);
}, 180_000);
