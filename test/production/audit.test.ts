/**
 * The audit log (ADR 0804): a scripted admin session leaves one entry per action, with who
 * (admin token or pool secret id), what, which target, when and how it ended; sign-ins
 * leave security events; GET /admin/pools/{pool}/audit filters and pages; one pool's
 * trail is never visible at another.
 */
import { createAuditQueries } from '../../src/audit/audit.queries.js';
import { Browser } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

interface AuditItem {
  id: string;
  occurredAt: string;
  actor: { kind: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  outcome: string;
  status: number | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

async function auditOf(poolId: string, query = ''): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  do {
    const separator = query ? '&' : '';
    const response = await tarn.admin('GET', `/pools/${poolId}/audit?${query}${separator}limit=3${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.status).toBe(200);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor);
  return items;
}

function basic(poolId: string, secret: string) {
  return { authorization: `Basic ${Buffer.from(`${poolId}:${secret}`).toString('base64')}` };
}

describe('audit log of admin actions', () => {
  it('records each action of a scripted admin session, newest first, with actor, target and outcome', async () => {
    const pool = await createPool(tarn, { name: 'Audited' });
    const patched = await tarn.admin('PATCH', `/pools/${pool.id}`, { name: 'Audited Pool' });
    expect(patched.status).toBe(200);
    const app = await createClient(tarn, pool.id);
    await tarn.admin('PATCH', `/pools/${pool.id}/clients/${app.clientId}`, { name: 'Renamed App' });
    await tarn.admin('POST', `/pools/${pool.id}/clients/${app.clientId}/secret/rotate`);
    const user = await createUser(tarn, pool.id);
    await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' });
    const invalid = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'not-an-email', mode: 'password', password: 'x' });
    expect(invalid.status).toBe(400);
    const keys = await tarn.admin('POST', `/pools/${pool.id}/keys/rotate`, { revoke: true });
    // The pool's own secret acts too, and is named by its id (never its value).
    const secrets = await tarn.admin('GET', `/pools/${pool.id}/secrets`);
    const currentSecretId = secrets.body.items.find((secret: { status: string }) => secret.status === 'current').id;
    const bySecret = await tarn.admin('PATCH', `/pools/${pool.id}`, { description: 'changed with the pool secret' }, basic(pool.id, pool.secret.value));
    expect(bySecret.status).toBe(200);
    const rotated = await tarn.admin('POST', `/pools/${pool.id}/secrets/rotate`);
    await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}`);
    await tarn.admin('DELETE', `/pools/${pool.id}/clients/${app.clientId}`);
    const refused = await tarn.admin('GET', `/pools/${pool.id}`, undefined, { authorization: 'Bearer wrong-token-wrong-token' });
    expect(refused.status).toBe(401);

    const items = await auditOf(pool.id);
    const actions = items.map((item) => `${item.action} ${item.outcome}`).reverse();
    expect(actions).toEqual([
      'pool.create success',
      'pool.update success',
      'clients.create success',
      'clients.update success',
      'clients.secret.rotate success',
      'user.created success',
      'user.disabled success',
      'users.create failure',
      'keys.rotate success',
      'pool.update success',
      'secrets.rotate success',
      'user.deleted success',
      'clients.delete success',
      'admin.unauthorized failure',
    ]);
    const byAction = (action: string, outcome = 'success') => items.find((item) => item.action === action && item.outcome === outcome)!;
    expect(byAction('pool.create')).toMatchObject({ actor: { kind: 'admin', id: null }, target: { type: 'pool', id: pool.id }, status: 201 });
    expect(byAction('clients.create').target).toEqual({ type: 'client', id: app.clientId });
    expect(byAction('user.created')).toMatchObject({ target: { type: 'user', id: user.id }, status: 201, details: { status: 'active' } });
    expect(byAction('user.disabled')).toMatchObject({ target: { type: 'user', id: user.id }, status: 200, details: { from: 'active', status: 'disabled' } });
    expect(byAction('user.deleted')).toMatchObject({ actor: { kind: 'admin' }, target: { type: 'user', id: user.id }, status: 204 });
    expect(byAction('users.create', 'failure')).toMatchObject({ status: 400, target: null });
    const keyEvent = byAction('keys.rotate');
    expect(keyEvent.details.revoke).toBe(true);
    expect(keyEvent.details.currentKids).toEqual(
      expect.arrayContaining(keys.body.items.filter((key: { status: string }) => key.status === 'current').map((key: { kid: string }) => key.kid)),
    );
    expect(byAction('secrets.rotate').details.currentSecretId).toBe(rotated.body.items.find((secret: { status: string }) => secret.status === 'current').id);
    expect(byAction('secrets.rotate').details.nextSecretId).toBe(rotated.body.items.find((secret: { status: string }) => secret.status === 'next').id);
    const secretUpdate = items.find((item) => item.actor.kind === 'pool_secret')!;
    expect(secretUpdate).toMatchObject({ action: 'pool.update', actor: { kind: 'pool_secret', id: currentSecretId } });
    expect(byAction('admin.unauthorized', 'failure')).toMatchObject({ actor: { kind: 'anonymous' }, status: 401 });
    for (const item of items) {
      expect(new Date(item.occurredAt).getTime()).not.toBeNaN();
      expect(item.requestId).toBeTruthy();
    }
    // No secret value anywhere in the trail.
    const trail = JSON.stringify(items);
    for (const secret of [pool.secret.value, pool.nextSecret.value, app.secret!.value, user.password, rotated.body.nextSecret.value])
      expect(trail).not.toContain(secret);
  });

  it('covers routes it was never told about (groups, added by another change) without edits', async () => {
    const pool = await createPool(tarn);
    const user = await createUser(tarn, pool.id);
    const group = await tarn.admin('POST', `/pools/${pool.id}/groups`, { name: 'Staff' });
    expect(group.status).toBe(201);
    expect((await tarn.admin('PUT', `/pools/${pool.id}/groups/${group.body.id}/members/${user.id}`)).status).toBe(204);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/groups/${group.body.id}/members/${user.id}`)).status).toBe(204);
    expect((await tarn.admin('DELETE', `/pools/${pool.id}/groups/${group.body.id}`)).status).toBe(204);
    const items = (await auditOf(pool.id)).reverse().slice(2);
    expect(items.map((item) => [item.action, item.target])).toEqual([
      ['groups.create', { type: 'group', id: group.body.id }],
      ['groups.members.put', { type: 'user', id: user.id }],
      ['groups.members.delete', { type: 'user', id: user.id }],
      ['groups.delete', { type: 'group', id: group.body.id }],
    ]);
  });

  it('filters by action, actor, outcome and time, and pages with a cursor', async () => {
    const pool = await createPool(tarn);
    const before = new Date().toISOString();
    for (let i = 0; i < 4; i += 1) await createUser(tarn, pool.id);
    await tarn.admin('PATCH', `/pools/${pool.id}`, { name: 'By secret' }, basic(pool.id, pool.secret.value));
    const after = new Date(Date.now() + 1000).toISOString();

    const created = await auditOf(pool.id, 'action=user.created');
    expect(created).toHaveLength(4);
    // The name these writes had before they became events of the user's lifecycle still finds them, and so does their family.
    expect((await auditOf(pool.id, 'action=users.create')).map((item) => item.id)).toEqual(created.map((item) => item.id));
    expect((await auditOf(pool.id, 'action=user.*')).map((item) => item.id)).toEqual(created.map((item) => item.id));
    expect(new Set(created.map((item) => item.id)).size).toBe(4);
    const secretEvents = await auditOf(pool.id, 'actor=pool_secret');
    expect(secretEvents.map((item) => item.action)).toEqual(['pool.update']);
    const secretId = secretEvents[0]!.actor.id!;
    expect(await auditOf(pool.id, `actor=pool_secret:${secretId}`)).toHaveLength(1);
    expect(await auditOf(pool.id, 'actor=admin&action=pool.create')).toHaveLength(1);
    expect(await auditOf(pool.id, `since=${encodeURIComponent(before)}&until=${encodeURIComponent(after)}&action=users.create`)).toHaveLength(4);
    expect(await auditOf(pool.id, `until=${encodeURIComponent(before)}&action=users.create`)).toHaveLength(0);
    expect(await auditOf(pool.id, 'outcome=failure')).toHaveLength(0);

    const bad = await tarn.admin('GET', `/pools/${pool.id}/audit?since=yesterday&actor=root&outcome=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((error: { field: string }) => error.field).sort()).toEqual(['actor', 'outcome', 'since']);
    expect((await tarn.admin('GET', `/pools/${pool.id}/audit?cursor=nonsense`)).status).toBe(400);
  });

  it('records sign-in successes and failures as security events', async () => {
    const pool = await createPool(tarn);
    const app = await createClient(tarn, pool.id);
    const user = await createUser(tarn, pool.id);
    const config = await discover(pool.issuer, app.clientId, app.secret?.value);
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    await browser.submit(start.page, { email: user.email, password: 'wrong-password-1' });
    await signIn(config, tarn.url, user);

    const failures = await auditOf(pool.id, 'action=sign_in.failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ actor: { kind: 'anonymous' }, outcome: 'failure', details: { method: 'password', email: user.email } });
    const successes = await auditOf(pool.id, 'action=sign_in.success');
    expect(successes).toHaveLength(1);
    expect(successes[0]).toMatchObject({ actor: { kind: 'user', id: user.id }, target: { type: 'user', id: user.id }, details: { method: 'password' } });
    expect(JSON.stringify([...failures, ...successes])).not.toContain('wrong-password-1');
    expect(JSON.stringify([...failures, ...successes])).not.toContain(user.password);
  });

  it("never shows one pool's trail at another", async () => {
    const a = await createPool(tarn);
    const b = await createPool(tarn);
    await createUser(tarn, a.id);
    expect((await auditOf(b.id)).map((item) => item.action)).toEqual(['pool.create']);
    // Pool A's secret at pool B's audit: not found, like any other pool-A-at-pool-B access.
    const foreign = await tarn.admin('GET', `/pools/${b.id}/audit`, undefined, basic(a.id, a.secret.value));
    expect(foreign.status).toBe(404);
    const own = await tarn.admin('GET', `/pools/${a.id}/audit`, undefined, basic(a.id, a.secret.value));
    expect(own.status).toBe(200);
    expect((await tarn.admin('GET', '/pools/no-such-pool/audit')).status).toBe(404);
  });

  it('keeps query modules bound to their pool (cross-pool)', async () => {
    const a = await createPool(tarn);
    const b = await createPool(tarn);
    const db = tarn.database.handle.db;
    await createAuditQueries(db, a.id).insertAuditEvent({
      id: 'ffffffffffff0000aaaaaaaaaaaa',
      actor_kind: 'system',
      action: 'test.event',
      outcome: 'success',
      details: '{}',
    });
    expect(await createAuditQueries(db, b.id).listAuditEvents({ action: 'test.event' }, 10, undefined)).toEqual([]);
    expect(await createAuditQueries(db, a.id).listAuditEvents({ action: 'test.event' }, 10, undefined)).toHaveLength(1);
    // An event for a pool that does not exist is dropped, not an error.
    expect(
      await createAuditQueries(db, 'no-such-pool').insertAuditEvent({
        id: 'x1',
        actor_kind: 'system',
        action: 'test.event',
        outcome: 'success',
        details: '{}',
      }),
    ).toBeUndefined();
  });
});
