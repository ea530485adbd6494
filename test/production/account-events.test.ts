/**
 * What happens to accounts leaves a trail (docs/events.md). Every sign-in method (ADR 0804): a failure and a success by emailed code,
 * by passkey and by completing a registration each appear in the pool's audit log with the
 * method, and are counted in tarn_sign_ins_total by method and outcome. Driven through the
 * hosted pages as a browser would; mail from a real SMTP server; the passkey answered by a
 * software authenticator at Tarn's own origin (http://localhost:PORT, a WebAuthn domain).
 * Also: a lock, a registration, an activation, and a grant revoked by refresh-token reuse.
 */
import { Browser, decodeEntities, type Page } from '../support/browser.js';
import { createClient, createPool, createUser, uniqueId } from '../support/fixtures.js';
import { discover, signIn, startAuthorization } from '../support/relying-party.js';
import { postForm, setupPool } from '../support/protocol.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { SoftAuthenticator } from '../passkeys/soft-authenticator.js';
import { createPoolQueries } from '../../src/pools/pools.queries.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url, PUBLIC_URL: 'http://localhost:{port}' });
});
afterAll(async () => {
  await tarn?.close();
  await mailbox?.close();
});

interface AuditItem {
  actor: { kind: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  outcome: string;
  status?: number | null;
  requestId?: string | null;
  details: Record<string, unknown>;
}

async function signInEvents(poolId: string): Promise<AuditItem[]> {
  const response = await tarn.admin('GET', `/pools/${poolId}/audit?limit=100`);
  expect(response.status).toBe(200);
  return (response.body.items as AuditItem[]).filter((item) => item.action.startsWith('sign_in.')).reverse();
}

async function signInCount(method: string, outcome: 'success' | 'failure'): Promise<number> {
  const text = await (await fetch(`${tarn.url}/metrics`)).text();
  const line = new RegExp(`^tarn_sign_ins_total\\{method="${method}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
  return line ? Number(line[1]) : 0;
}

async function eventCount(type: string, outcome: 'success' | 'failure'): Promise<number> {
  const text = await (await fetch(`${tarn.url}/metrics`)).text();
  const line = new RegExp(`^tarn_events_total\\{type="${type.replace(/\./g, '\\.')}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
  return line ? Number(line[1]) : 0;
}

async function countsOf(method: string) {
  return { success: await signInCount(method, 'success'), failure: await signInCount(method, 'failure') };
}

async function loginPage(signIn: Record<string, boolean>, extra: Record<string, unknown> = {}) {
  const pool = await createPool(tarn, { signIn, ...extra });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  return { pool, browser, page: start.page };
}

const wrongCodeFor = (code: string) => (code === '000000' ? '000001' : '000000');

it('records a failed and a successful email-code sign-in, and counts them', async () => {
  const before = await countsOf('email_code');
  const { pool, browser, page } = await loginPage({ password: true, emailCode: true });
  const user = await createUser(tarn, pool.id);
  const codePage = await browser.submit(page, { email: user.email }, '/email-code');
  const code = codeIn(await mailbox.next(user.email));
  const wrong = await browser.submit(codePage, { code: wrongCodeFor(code) }, '/verify');
  expect(wrong.status).toBe(401);
  const right = await browser.submit(wrong, { code }, '/verify');
  expect(right.status).toBe(200);

  const events = await signInEvents(pool.id);
  expect(events).toEqual([
    expect.objectContaining({
      action: 'sign_in.failure',
      outcome: 'failure',
      actor: { kind: 'anonymous', id: null },
      details: { method: 'email_code', email: user.email, reason: 'invalid_code' },
    }),
    expect.objectContaining({
      action: 'sign_in.success',
      outcome: 'success',
      actor: { kind: 'user', id: user.id },
      target: { type: 'user', id: user.id },
      details: { method: 'email_code', email: user.email },
    }),
  ]);
  expect(JSON.stringify(events)).not.toContain(code);
  expect(await countsOf('email_code')).toEqual({ success: before.success + 1, failure: before.failure + 1 });
});

it('records a failed and a successful passkey sign-in, and counts them', async () => {
  const before = await countsOf('passkey');
  const { pool, browser, page } = await loginPage({ password: true, passkey: true });
  const user = await createUser(tarn, pool.id);
  // The user enrolled a passkey earlier (the enrolment pages have their own tests).
  const services = tarn.tarn.services;
  const poolRow = (await createPoolQueries(tarn.database.handle.db).findPool(pool.id))!;
  const authenticator = new SoftAuthenticator('localhost', tarn.url);
  const creation = await services.passkeys.startRegistration(poolRow, await services.users.getUserRow(pool.id, user.id));
  await services.passkeys.finishRegistration(poolRow, user.id, authenticator.create(creation), {}, 'Soft key');

  const optionsOf = (signInPage: Page) => JSON.parse(decodeEntities(/data-options="([^"]+)"/.exec(signInPage.html)![1]!)) as { challenge: string };
  // "Sign in with a passkey" is a second button of the password form (formaction).
  const passkeyAction = decodeEntities(/formaction="([^"]+\/passkey)"/.exec(page.html)![1]!);
  const csrf = decodeEntities(/name="csrf" value="([^"]+)"/.exec(page.html)![1]!);
  const signInPage = await browser.navigate('POST', new URL(passkeyAction, page.url).href, { csrf, email: user.email });
  expect(signInPage.status).toBe(200);
  // A phishing site relaying a genuine signature: another origin.
  const phished = await browser.submit(
    signInPage,
    { credential: JSON.stringify(authenticator.get(optionsOf(signInPage), { origin: 'http://localhost:1' })) },
    '/verify',
  );
  expect(phished.status).toBe(401);
  const accepted = await browser.submit(phished, { credential: JSON.stringify(authenticator.get(optionsOf(phished))) }, '/verify');
  expect(accepted.status).toBe(200);

  const events = await signInEvents(pool.id);
  expect(events).toEqual([
    expect.objectContaining({
      action: 'sign_in.failure',
      outcome: 'failure',
      actor: { kind: 'anonymous', id: null },
      details: expect.objectContaining({ method: 'passkey', email: user.email }),
    }),
    expect.objectContaining({
      action: 'sign_in.success',
      outcome: 'success',
      actor: { kind: 'user', id: user.id },
      target: { type: 'user', id: user.id },
      details: { method: 'passkey' },
    }),
  ]);
  expect(await countsOf('passkey')).toEqual({ success: before.success + 1, failure: before.failure + 1 });
});

it('records the sign-in that completes a registration, and a wrong registration code, and counts them', async () => {
  const before = await countsOf('registration');
  const { pool, browser, page } = await loginPage({ password: true }, { selfRegistration: true });
  const form = await browser.get(/href="([^"]+\/register)"/.exec(page.html)![1]!);
  const email = `${uniqueId('newcomer')}@example.test`;
  const verify = await browser.submit(form, { email, password: 'a long enough passphrase' });
  expect(verify.status).toBe(200);
  const code = codeIn(await mailbox.next(email));
  const wrong = await browser.submit(verify, { code: wrongCodeFor(code) }, '/verify');
  expect(wrong.status).toBe(401);
  const done = await browser.submit(wrong, { code }, '/verify');
  expect(done.status).toBe(200);

  const users = (await tarn.admin('GET', `/pools/${pool.id}/users?email=${encodeURIComponent(email)}`)).body.items as { id: string }[];
  expect(users).toHaveLength(1);
  const events = await signInEvents(pool.id);
  expect(events).toEqual([
    expect.objectContaining({
      action: 'sign_in.failure',
      outcome: 'failure',
      actor: { kind: 'anonymous', id: null },
      details: { method: 'registration', email, reason: 'invalid_code' },
    }),
    expect.objectContaining({
      action: 'sign_in.success',
      outcome: 'success',
      actor: { kind: 'user', id: users[0]!.id },
      details: { method: 'registration', email },
    }),
  ]);
  expect(JSON.stringify(events)).not.toContain('a long enough passphrase');
  const registered = (await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.registered`)).body.items as AuditItem[];
  expect(registered).toEqual([
    expect.objectContaining({ actor: { kind: 'user', id: users[0]!.id }, target: { type: 'user', id: users[0]!.id }, details: { email } }),
  ]);
  expect(await countsOf('registration')).toEqual({ success: before.success + 1, failure: before.failure + 1 });
});

it('records the lock that repeated failures cause, once, as done by the system', async () => {
  const { pool } = await loginPage({ password: true }, { lockout: { maxAttempts: 2, windowSeconds: 600 } });
  const user = await createUser(tarn, pool.id);
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const before = { locked: await eventCount('user.locked', 'success'), failed: await eventCount('sign_in.failure', 'failure') };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const browser = new Browser(tarn.url);
    const start = await startAuthorization(config, browser);
    expect((await browser.submit(start.page, { email: user.email, password: `wrong password ${attempt}` })).status).toBe(401);
  }
  const locks = (await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.locked`)).body.items as (AuditItem & { details: { lockedUntil: string } })[];
  expect(locks).toHaveLength(1);
  expect(locks[0]).toMatchObject({ actor: { kind: 'system', id: null }, target: { type: 'user', id: user.id }, outcome: 'success', details: { failures: 2 } });
  expect(new Date(locks[0]!.details.lockedUntil).getTime()).toBeGreaterThan(Date.now());
  expect((await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}/lockout`)).body).toMatchObject({ locked: true });
  // The metrics count events by type and outcome.
  expect({ locked: await eventCount('user.locked', 'success'), failed: await eventCount('sign_in.failure', 'failure') }).toEqual({
    locked: before.locked + 1,
    failed: before.failed + 3,
  });
});

it('records the activation of an invited user, by the user', async () => {
  const pool = await createPool(tarn);
  const email = `${uniqueId('invitee')}@example.test`;
  const invited = await tarn.admin('POST', `/pools/${pool.id}/users`, { email, mode: 'invite' });
  expect(invited.status).toBe(201);
  const browser = new Browser(tarn.url);
  const form = await browser.get(linkIn(await mailbox.next(email)));
  expect((await browser.submit(form, { password: 'a long enough passphrase' })).status).toBe(200);

  const activated = (await tarn.admin('GET', `/pools/${pool.id}/audit?action=user.activated`)).body.items as AuditItem[];
  expect(activated).toEqual([
    expect.objectContaining({
      actor: { kind: 'user', id: invited.body.id },
      target: { type: 'user', id: invited.body.id },
      outcome: 'success',
      details: { via: 'link' },
    }),
  ]);
  expect(JSON.stringify(activated)).not.toContain('a long enough passphrase');
});

/** The provider reports a revocation to its event emitter only, after answering: wait for the entry to be written. */
async function entriesOnceWritten(poolId: string, action: string): Promise<AuditItem[]> {
  let entries: AuditItem[] = [];
  for (let tries = 0; tries < 100 && entries.length === 0; tries += 1) {
    entries = (await tarn.admin('GET', `/pools/${poolId}/audit?action=${action}`)).body.items;
    if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return entries;
}

it('records the grant revoked when a rotated refresh token is used again (RFC 9700 §4.14.2)', async () => {
  const setup = await setupPool(tarn, { grantTypes: ['authorization_code', 'refresh_token'] });
  const { tokens } = await signIn(setup.config, tarn.url, setup.user);
  const refresh = (refreshToken: string) =>
    postForm(
      `${setup.pool.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      { clientId: setup.app.clientId, clientSecret: setup.app.secret?.value },
    );
  expect((await refresh(tokens.refresh_token!)).status).toBe(200);
  const reused = await refresh(tokens.refresh_token!);
  expect([reused.status, reused.body.error]).toEqual([400, 'invalid_grant']);

  const entries = await entriesOnceWritten(setup.pool.id, 'token.reuse_detected');
  expect(entries).toEqual([
    expect.objectContaining({
      actor: { kind: 'system', id: null },
      target: { type: 'user', id: setup.user.id },
      outcome: 'success',
      details: { clientId: setup.app.clientId },
    }),
  ]);
  expect(JSON.stringify(entries)).not.toContain(tokens.refresh_token!);
});

it('records the grants that logout revokes, by the user (RP-Initiated Logout 1.0)', async () => {
  const setup = await setupPool(tarn);
  const { browser } = await signIn(setup.config, tarn.url, setup.user);
  const confirm = await browser.get(`${setup.pool.issuer}/session/end?client_id=${encodeURIComponent(setup.app.clientId)}`);
  expect((await browser.submit(confirm, { logout: 'yes' })).status).toBe(200);
  const entries = await entriesOnceWritten(setup.pool.id, 'session.ended');
  expect(entries).toEqual([
    expect.objectContaining({
      actor: { kind: 'user', id: setup.user.id },
      target: { type: 'user', id: setup.user.id },
      details: { clientId: setup.app.clientId },
    }),
  ]);
});

it('records a profile change the user makes at /me, naming the fields, not their values', async () => {
  const setup = await setupPool(tarn);
  const { tokens } = await signIn(setup.config, tarn.url, setup.user);
  const changed = await fetch(`${setup.pool.issuer}/me`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ profile: { nickname: 'Amazing Grace', given_name: 'Grace' } }),
  });
  expect(changed.status).toBe(200);
  const entries = (await tarn.admin('GET', `/pools/${setup.pool.id}/audit?action=user.profile_changed`)).body.items as AuditItem[];
  expect(entries).toEqual([
    expect.objectContaining({
      actor: { kind: 'user', id: setup.user.id },
      target: { type: 'user', id: setup.user.id },
      outcome: 'success',
      details: { fields: ['given_name', 'nickname'] },
    }),
  ]);
  expect(JSON.stringify(entries)).not.toContain('Amazing Grace');
});

it('records one lifecycle event per thing an admin changed on a user (disabled, email, enabled, password), never the values', async () => {
  const pool = await createPool(tarn);
  const user = await createUser(tarn, pool.id);
  const newEmail = `${uniqueId('moved')}@example.test`;
  expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled', email: newEmail })).status).toBe(200);
  expect((await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'active', password: 'a brand new passphrase' })).status).toBe(200);
  const updates = ((await tarn.admin('GET', `/pools/${pool.id}/audit?action=users.update`)).body.items as AuditItem[]).reverse();
  // The route's old name (users.update) still finds the events of its requests.
  expect(updates.map((item) => [item.action, item.target, item.status])).toEqual([
    ['user.disabled', { type: 'user', id: user.id }, 200],
    ['user.email_changed', { type: 'user', id: user.id }, 200],
    ['user.enabled', { type: 'user', id: user.id }, 200],
    ['user.password_reset', { type: 'user', id: user.id }, 200],
  ]);
  expect(updates[0]!.details).toMatchObject({ from: 'active', status: 'disabled' });
  expect(updates[2]!.details).toMatchObject({ from: 'disabled', status: 'active' });
  expect(new Set(updates.map((item) => item.requestId)).size).toBe(2);
  expect(JSON.stringify(updates)).not.toContain('a brand new passphrase');
  expect(JSON.stringify(updates)).not.toContain(newEmail);
});
