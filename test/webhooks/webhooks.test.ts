/**
 * Webhooks as an administrator and a receiving application see them (ADR 0809, docs/events.md):
 * the admin API, events from the hosted pages and the admin API arriving signed (verified by
 * the `standardwebhooks` package in a real HTTP receiver), a secret rotation, a receiver that
 * is down for a while, the delivery log, test events, redelivery and automatic disabling.
 */
import { Browser } from '../support/browser.js';
import { createPool, createUser, uniqueId, type ShownSecret } from '../support/fixtures.js';
import { setUpSignIn, signIn, startAuthorization } from '../support/relying-party.js';
import { waitFor } from '../support/tarn-process.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let tarn: RunningTarn;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  tarn = await startTarn({
    OUTGOING_NETWORKS: 'loopback',
    OUTGOING_TIMEOUT_MS: '2000',
    WEBHOOK_POLL_INTERVAL_MS: '100',
    WEBHOOK_RETRY_BASE_MS: '300',
    WEBHOOK_RETRY_MAX_DELAY_MS: '1200',
    WEBHOOK_DISABLE_AFTER_MS: '6000',
  });
  tarn.tarn.webhookWorker.start();
});
afterAll(async () => {
  await tarn?.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver();
  receivers.push(started);
  return started;
}

async function webhookFor(poolId: string, to: WebhookReceiver, eventTypes: string[] = ['*']) {
  const created = await tarn.admin('POST', `/pools/${poolId}/webhooks`, { url: to.url, eventTypes });
  expect(created.status).toBe(201);
  to.secrets.push(created.body.secret.value as string);
  return created.body as { id: string; secret: ShownSecret };
}

async function deliveries(poolId: string, webhookId: string) {
  const response = await tarn.admin('GET', `/pools/${poolId}/webhooks/${webhookId}/deliveries?limit=200`);
  expect(response.status).toBe(200);
  return response.body.items as {
    id: string;
    eventId: string;
    eventType: string;
    status: string;
    attempts: number;
    nextAttemptAt: string | null;
    lastStatusCode: number | null;
    attemptLog: { attempt: number; startedAt: string; statusCode: number | null; durationMs: number; response: string | null }[];
  }[];
}

async function deliveredCount(): Promise<number> {
  const text = await (await fetch(`${tarn.url}/metrics`)).text();
  const line = /^tarn_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m.exec(text);
  return line ? Number(line[1]) : 0;
}

describe('the admin API', () => {
  it('creates a webhook with a secret shown once, lists, changes and deletes it', async () => {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/hooks', eventTypes: ['users.*', 'sign_in.success'] });
    expect(created.status).toBe(201);
    expect(created.body.secret).toEqual({ value: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/), createdAt: expect.any(String), expiresAt: null });
    expect(created.headers.get('location')).toBe(`/admin/pools/${pool.id}/webhooks/${created.body.id}`);
    const read = await tarn.admin('GET', `/pools/${pool.id}/webhooks/${created.body.id}`);
    expect(read.body).toEqual(expect.objectContaining({ url: 'http://127.0.0.1:9/hooks', eventTypes: ['users.*', 'sign_in.success'], enabled: true }));
    expect(read.body.secret).toBeUndefined();
    expect(JSON.stringify((await tarn.admin('GET', `/pools/${pool.id}/webhooks`)).body)).not.toContain(created.body.secret.value);

    const changed = await tarn.admin('PATCH', `/pools/${pool.id}/webhooks/${created.body.id}`, { enabled: false, eventTypes: ['*'] });
    expect(changed.body).toEqual(expect.objectContaining({ enabled: false, eventTypes: ['*'] }));
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/webhooks/${created.body.id}`)).status).toBe(204);
    expect((await tarn.admin('GET', `/pools/${pool.id}/webhooks/${created.body.id}`)).status).toBe(404);
  });

  it('refuses a bad event type, a URL outside the outgoing networks, and says which field', async () => {
    const pool = await createPool(tarn);
    const badType = await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/', eventTypes: ['Users Created'] });
    expect(badType.status).toBe(400);
    expect(badType.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(badType.body.errors)).toContain('eventTypes');
    const privateUrl = await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://10.1.2.3/hooks', eventTypes: ['*'] });
    expect(privateUrl.status).toBe(400);
    expect(privateUrl.body.errors).toEqual([expect.objectContaining({ detail: expect.stringContaining('Tarn may not send requests there') })]);
    const none = await tarn.admin('POST', `/pools/${pool.id}/webhooks`, { url: 'http://127.0.0.1:9/', eventTypes: [] });
    expect(none.status).toBe(400);
  });

  it("keeps another pool's webhook out of reach", async () => {
    const a = await createPool(tarn);
    const b = await createPool(tarn);
    const hook = await tarn.admin('POST', `/pools/${a.id}/webhooks`, { url: 'http://127.0.0.1:9/', eventTypes: ['*'] });
    expect((await tarn.admin('GET', `/pools/${b.id}/webhooks/${hook.body.id}`)).status).toBe(404);
    expect((await tarn.admin('POST', `/pools/${b.id}/webhooks/${hook.body.id}/test`)).status).toBe(404);
    expect((await tarn.admin('GET', `/pools/${b.id}/webhooks`)).body.items).toEqual([]);
  });
});

describe('delivery', () => {
  it('delivers events of the hosted pages and of the admin API, signed, with the event id as webhook-id', async () => {
    const before = await deliveredCount();
    const to = await receiver();
    const { pool, user, config } = await setUpSignIn(tarn);
    await webhookFor(pool.id, to);
    // A failed password attempt, then a sign-in through the hosted pages.
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    const wrong = await browser.submit(start.page, { email: user.email, password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    await signIn(config, tarn.url, user);
    // Admin changes: a user, disabled, a group and a membership, deleted.
    const other = await createUser(tarn, pool.id);
    expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${other.id}`, { status: 'disabled' })).status).toBe(200);
    const group = await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Staff' });
    expect((await tarn.admin('PUT', `/pools/${pool.id}/groups/${group.body.id}/members/${other.id}`)).status).toBeLessThan(300);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/users/${other.id}`)).status).toBe(204);

    const wanted = ['sign_in.failure', 'sign_in.success', 'user.created', 'user.disabled', 'groups.create', 'groups.members.put', 'user.deleted'];
    const received = await to.until((items) => wanted.every((type) => items.some((item) => item.type === type)), 'every event type');
    const audit = (await tarn.admin('GET', `/pools/${pool.id}/audit?limit=100`)).body.items as { id: string; action: string }[];
    for (const item of received) {
      expect(item.data.pool).toBe(pool.id);
      expect(item.webhookId).toBe(item.data.id);
      expect(audit.find((entry) => entry.id === item.webhookId)?.action).toBe(item.type);
      expect(Math.abs(item.timestamp - Date.now() / 1000)).toBeLessThan(120);
    }
    expect(received.find((item) => item.type === 'sign_in.success')?.data).toEqual(
      expect.objectContaining({
        actor: { kind: 'user', id: user.id },
        subject: { type: 'user', id: user.id },
        details: expect.objectContaining({ method: 'password' }),
      }),
    );
    expect(received.find((item) => item.type === 'sign_in.failure')?.data.details).toEqual(expect.objectContaining({ method: 'password' }));
    expect(JSON.stringify(received)).not.toContain(user.password);
    expect(to.unverified).toBe(0);
    expect(await deliveredCount()).toBeGreaterThanOrEqual(before + wanted.length);
  });

  it('sends only the types a webhook asked for ("user.*" and one exact type)', async () => {
    const all = await receiver();
    const some = await receiver();
    const pool = await createPool(tarn);
    await webhookFor(pool.id, all);
    await webhookFor(pool.id, some, ['user.*']);
    await createUser(tarn, pool.id);
    await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Not for some' });
    const marker = await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Marker' });
    await all.until((items) => items.some((item) => item.type === 'groups.create' && item.data.subject?.id === marker.body.id), 'the marker group');
    await some.until((items) => items.some((item) => item.type === 'user.created'), 'the user event');
    // Every event of the pool written before the marker has reached "all"; "some" got user.* only.
    expect(some.received.map((item) => item.type)).toEqual(['user.created']);
  });

  it('signs with the old and the new secret during a rotation grace period, then with the new one only', async () => {
    const to = await receiver();
    const pool = await createPool(tarn);
    const hook = await webhookFor(pool.id, to);
    const rotated = await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/secret/rotate`, { graceSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret.value).not.toBe(hook.secret.value);
    expect(rotated.body.previousSecretExpiresAt).not.toBeNull();
    to.secrets.push(rotated.body.secret.value as string);
    const during = await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/test`);
    expect(during.status).toBe(202);
    const [first] = (await to.until((items) => items.some((item) => item.webhookId === during.body.eventId), 'the test event')).filter(
      (item) => item.webhookId === during.body.eventId,
    );
    expect(first!.type).toBe('webhook.test');
    expect(first!.signatures).toHaveLength(2);
    expect(first!.verifiedWith.sort()).toEqual([hook.secret.value, rotated.body.secret.value].sort());

    const again = await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/secret/rotate`, { graceSeconds: 0 });
    to.secrets.push(again.body.secret.value as string);
    const after = await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/test`);
    const [second] = (await to.until((items) => items.some((item) => item.webhookId === after.body.eventId), 'the second test event')).filter(
      (item) => item.webhookId === after.body.eventId,
    );
    expect(second!.signatures).toHaveLength(1);
    expect(second!.verifiedWith).toEqual([again.body.secret.value]);
  });

  it('keeps retrying while the receiver fails, with growing delays in the delivery log, then delivers each event once', async () => {
    const to = await receiver();
    const pool = await createPool(tarn);
    const hook = await webhookFor(pool.id, to, ['groups.create']);
    to.failWith(503);
    const names = Array.from({ length: 5 }, (_, i) => `Group ${i} ${uniqueId('g')}`);
    const ids: string[] = [];
    for (const name of names) ids.push((await tarn.admin('POST', `/pools/${pool.id}/groups`, { name })).body.id as string);
    // Wait until every delivery has failed at least twice (the receiver answered 503).
    await waitFor(
      async () => (await deliveries(pool.id, hook.id)).filter((item) => item.attempts >= 2 && item.attemptLog.length >= 2).length === 5,
      'two failed attempts each',
      30_000,
    );
    const log = await deliveries(pool.id, hook.id);
    for (const item of log) {
      expect(item.status).toBe('pending');
      expect(item.lastStatusCode).toBe(503);
      expect(item.nextAttemptAt).not.toBeNull();
      expect(item.attemptLog[0]).toEqual(expect.objectContaining({ attempt: 1, statusCode: 503, response: 'not now' }));
      const gap = Date.parse(item.attemptLog[1]!.startedAt) - Date.parse(item.attemptLog[0]!.startedAt);
      expect(gap).toBeGreaterThanOrEqual(300 * 0.75 - 50);
    }
    to.failWith(undefined);
    const received = await to.until((items) => ids.every((id) => items.some((item) => item.data.subject?.id === id)), 'every group event');
    const eventIds = received.map((item) => item.webhookId);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    expect(received).toHaveLength(5);
    await waitFor(async () => (await deliveries(pool.id, hook.id)).every((item) => item.status === 'delivered'), 'the log to say delivered');
  });

  it('redelivers a past delivery with the same webhook-id', async () => {
    const to = await receiver();
    const pool = await createPool(tarn);
    const hook = await webhookFor(pool.id, to);
    const sent = await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/test`);
    await to.until((items) => items.some((item) => item.webhookId === sent.body.eventId), 'the test event');
    const again = await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/deliveries/${sent.body.deliveryId}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body.eventId).toBe(sent.body.eventId);
    await to.until((items) => items.filter((item) => item.webhookId === sent.body.eventId).length === 2, 'the redelivery');
    expect((await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/deliveries/nothing-here/redeliver`)).status).toBe(404);
  });

  it('disables a webhook that keeps failing, and tells the pool with a webhook.disabled event', async () => {
    const failing = await receiver();
    const watcher = await receiver();
    failing.failWith(500);
    const pool = await createPool(tarn);
    const hook = await webhookFor(pool.id, failing);
    await webhookFor(pool.id, watcher, ['webhook.disabled']);
    await tarn.admin('POST', `/pools/${pool.id}/webhooks/${hook.id}/test`);
    const [notice] = await watcher.until((items) => items.some((item) => item.type === 'webhook.disabled'), 'the webhook.disabled event', 40_000);
    expect(notice!.data).toEqual(expect.objectContaining({ actor: { kind: 'system', id: null }, subject: { type: 'webhook', id: hook.id } }));
    const read = await tarn.admin('GET', `/pools/${pool.id}/webhooks/${hook.id}`);
    expect(read.body).toEqual(expect.objectContaining({ enabled: false, disabledReason: expect.stringContaining('failed') }));
    const audit = await tarn.admin('GET', `/pools/${pool.id}/audit?action=webhook.disabled`);
    expect(audit.body.items).toHaveLength(1);
  }, 60_000);

  it('writes a group change and its event in one transaction: one event per change, and a refused change has no success event', async () => {
    const to = await receiver();
    const pool = await createPool(tarn);
    await webhookFor(pool.id, to, ['groups.*']);
    const parent = await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Parent' });
    const child = await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Child', parentId: parent.body.id });
    expect((await tarn.admin('PATCH', `/pools/${pool.id}/groups/${child.body.id}`, { name: 'Renamed' })).status).toBe(200);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/groups/${parent.body.id}`)).status).toBe(409);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/groups/${child.body.id}`)).status).toBe(204);

    const received = await to.until((items) => items.some((item) => item.type === 'groups.delete' && item.data.outcome === 'success'), 'the delete');
    const audit = (await tarn.admin('GET', `/pools/${pool.id}/audit?limit=100`)).body.items as { action: string; outcome: string; status: number }[];
    const ofGroups = audit.filter((entry) => entry.action.startsWith('groups.')).reverse();
    expect(ofGroups.map((entry) => [entry.action, entry.outcome, entry.status])).toEqual([
      ['groups.create', 'success', 201],
      ['groups.create', 'success', 201],
      ['groups.update', 'success', 200],
      ['groups.delete', 'failure', 409],
      ['groups.delete', 'success', 204],
    ]);
    expect(received.filter((item) => item.type === 'groups.update')).toHaveLength(1);
  });
});
