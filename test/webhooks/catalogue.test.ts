/**
 * The event catalogue of docs/events.md, as an application receives it: one pool with a
 * webhook for every type ("*") and a real HTTP receiver verifying each request with the
 * `standardwebhooks` package. Flows are driven through the hosted pages (form posts, as a
 * browser sends them; mail from a real SMTP server) and the admin API. The types received
 * must all be in the catalogue (a new, undocumented type fails here), and every catalogued
 * type must be received, or be named below with the test file that drives it.
 */
import { readFileSync } from 'node:fs';
import { Browser } from '../support/browser.js';
import { createClient, createPool, createUser, uniqueId } from '../support/fixtures.js';
import { postForm } from '../support/protocol.js';
import { discover, finishAuthorization, signIn, startAuthorization } from '../support/relying-party.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/** Types this file cannot produce at a webhook, and where each is driven instead. */
const ELSEWHERE: Record<string, string> = {
  // Written before any webhook of the pool can exist / after the pool and its webhooks are gone.
  'pool.create': 'test/production/audit.test.ts',
  'pool.delete': 'test/production/audit.test.ts (logged only: the trail goes with the pool)',
  // The account page needs a browser with scripts (and a passkey, an authenticator app).
  'user.passkey_added': 'test/e2e/account-chromium.test.ts',
  'user.passkey_removed': 'test/e2e/account-chromium.test.ts',
  'user.totp_enrolled': 'test/e2e/account-chromium.test.ts',
  'user.totp_removed': 'test/e2e/account-chromium.test.ts',
  'user.recovery_codes_regenerated': 'test/e2e/account-chromium.test.ts',
  'user.session_ended': 'test/e2e/account-chromium.test.ts',
  'user.sessions_ended': 'test/e2e/account-chromium.test.ts',
  'backchannel_logout.deliver': 'test/start/backchannel-delivery.test.ts',
  'users.import': 'test/import',
  'user.updated': 'test/import/import-events.test.ts (an import with onConflict=update)',
  'connections.create': 'test/connections',
  'connections.update': 'test/connections',
  'connections.delete': 'test/connections',
  'branding.put': 'test/branding',
  'branding.delete': 'test/branding',
  'mail-templates.put': 'test/admin',
  'mail-templates.delete': 'test/admin',
  'mail-templates.preview.create': 'test/admin',
};

function documentedTypes(): string[] {
  const text = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('## Catalogue'), text.indexOf('\n# Webhooks'));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

let tarn: RunningTarn;
let mailbox: Mailbox;
const receivers: WebhookReceiver[] = [];
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({
    SMTP_URL: mailbox.url,
    OUTGOING_NETWORKS: 'loopback',
    OUTGOING_TIMEOUT_MS: '2000',
    WEBHOOK_POLL_INTERVAL_MS: '100',
    WEBHOOK_RETRY_BASE_MS: '200',
    WEBHOOK_RETRY_MAX_DELAY_MS: '600',
    WEBHOOK_DISABLE_AFTER_MS: '1500',
  });
  tarn.tarn.webhookWorker.start();
});
afterAll(async () => {
  await tarn?.close();
  await mailbox?.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

it('delivers every type of the catalogue, and only those, signed', async () => {
  const to = await startWebhookReceiver();
  receivers.push(to);
  const pool = await createPool(tarn, { selfRegistration: true, lockout: { maxAttempts: 2, windowSeconds: 600 } });
  const P = `/pools/${pool.id}`;
  const hook = await tarn.admin('POST', `${P}/webhooks`, { url: to.url, eventTypes: ['*'] });
  expect(hook.status).toBe(201);
  to.secrets.push((hook.body.secret as { value: string }).value);

  // Pool, keys, secrets, clients.
  expect((await tarn.admin('PATCH', P, { description: 'Everything happens here' })).status).toBe(200);
  expect((await tarn.admin('POST', `${P}/keys/rotate`, { revoke: false })).status).toBe(200);
  expect((await tarn.admin('POST', `${P}/secrets/rotate`)).status).toBe(200);
  const app = await createClient(tarn, pool.id, { grantTypes: ['authorization_code', 'refresh_token'] });
  expect((await tarn.admin('PATCH', `${P}/clients/${app.clientId}`, { name: 'Portal' })).status).toBe(200);
  const rotated = await tarn.admin('POST', `${P}/clients/${app.clientId}/secret/rotate`);
  expect(rotated.status).toBe(200);
  const clientSecret = (rotated.body.secret as { value: string }).value;
  const spare = await createClient(tarn, pool.id);
  expect((await tarn.admin('DELETE', `${P}/clients/${spare.clientId}`)).status).toBe(204);
  const config = await discover(pool.issuer, app.clientId, clientSecret);

  // Users by the admin, and what an admin changes on them.
  const user = await createUser(tarn, pool.id);
  expect((await tarn.admin('POST', `${P}/users`, { email: 'not an email', mode: 'password', password: 'x' })).status).toBe(400);
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { status: 'disabled' })).status).toBe(200);
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { status: 'active' })).status).toBe(200);
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { status: 'active' })).status).toBe(200); // changes nothing: users.update
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { profile: { nickname: 'Ada' } })).status).toBe(200);
  const moved = `${uniqueId('moved')}@example.test`;
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { email: moved })).status).toBe(200);
  user.email = moved;
  user.password = 'a password the admin chose';
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { password: user.password })).status).toBe(200);
  expect((await tarn.admin('DELETE', `${P}/users/${user.id}/lockout`)).status).toBe(204); // no lock: users.lockout.delete
  expect((await tarn.admin('POST', `${P}/users/${user.id}/invitation`)).status).toBe(409); // active: users.invitation.create failure
  expect((await tarn.admin('DELETE', `${P}/users/00000000-0000-4000-8000-000000000000`)).status).toBe(404); // users.delete failure
  const back = await createUser(tarn, pool.id);
  expect((await tarn.admin('PATCH', `${P}/users/${back.id}`, { status: 'new' })).status).toBe(200);
  expect((await tarn.admin('PATCH', `${P}/users/${back.id}`, { status: 'active' })).status).toBe(200);

  // Sign-ins through the hosted pages: a wrong password, then the right one.
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser);
  expect((await browser.submit(start.page, { email: user.email, password: 'not the password' })).status).toBe(401);
  const { tokens } = await signIn(config, tarn.url, user, { scope: 'openid profile email offline_access' });

  // The user's own profile, a refresh token used twice, a revocation, a logout.
  const me = await fetch(`${pool.issuer}/me`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ profile: { given_name: 'Ada' } }),
  });
  expect(me.status).toBe(200);
  const auth = { clientId: app.clientId, clientSecret };
  const refresh = (token: string) => postForm(`${pool.issuer}/token`, { grant_type: 'refresh_token', refresh_token: token }, auth);
  const refreshed = await refresh(tokens.refresh_token!);
  expect(refreshed.status).toBe(200);
  expect((await refresh(tokens.refresh_token!)).status).toBe(400);
  const again = await signIn(config, tarn.url, user, { scope: 'openid profile email offline_access' });
  expect((await postForm(`${pool.issuer}/token/revocation`, { token: again.tokens.refresh_token!, token_type_hint: 'refresh_token' }, auth)).status).toBe(200);
  const third = await signIn(config, tarn.url, user);
  const confirm = await third.browser.get(`${pool.issuer}/session/end?client_id=${encodeURIComponent(app.clientId)}`);
  expect((await third.browser.submit(confirm, { logout: 'yes' })).status).toBe(200);

  // A password the admin requires changed, changed during the next sign-in.
  expect((await tarn.admin('PATCH', `${P}/users/${user.id}`, { passwordChange: 'required' })).status).toBe(200);
  const changing = new Browser(tarn.url);
  const started = await startAuthorization(config, changing);
  const asked = await changing.submit(started.page, { email: user.email, password: user.password });
  const renewed = await changing.submit(asked, { password: 'the password I chose myself' });
  const decided = renewed.leftTo ? renewed : await changing.submit(renewed, { decision: 'allow' });
  await finishAuthorization(config, decided.leftTo, started);
  user.password = 'the password I chose myself';

  // A forgotten password, reset with the mailed code.
  const forgot = new Browser(tarn.url);
  const ask = await forgot.get(`${P}/password-reset`);
  const codeForm = await forgot.submit(ask, { email: user.email });
  expect(codeForm.status).toBe(200);
  const resetCode = codeIn(await mailbox.next(user.email));
  expect((await forgot.submit(codeForm, { code: resetCode, password: 'a reset password at last' })).status).toBe(200);
  user.password = 'a reset password at last';

  // A lock by failed sign-ins, and an admin's unlock.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const locking = new Browser(tarn.url);
    const page = (await startAuthorization(config, locking)).page;
    expect((await locking.submit(page, { email: user.email, password: `wrong ${attempt}` })).status).toBe(401);
  }
  expect((await tarn.admin('DELETE', `${P}/users/${user.id}/lockout`)).status).toBe(204);

  // Invitations: one activated through its link, one sent again, in bulk, and a reset mail by the admin.
  const invitee = `${uniqueId('invitee')}@example.test`;
  const invited = await tarn.admin('POST', `${P}/users`, { email: invitee, mode: 'invite' });
  expect(invited.status).toBe(201);
  const activation = new Browser(tarn.url);
  const activate = await activation.get(linkIn(await mailbox.next(invitee)));
  expect((await activation.submit(activate, { password: 'a long enough passphrase' })).status).toBe(200);
  const waiting = `${uniqueId('waiting')}@example.test`;
  const pending = await tarn.admin('POST', `${P}/users`, { email: waiting, mode: 'invite' });
  await mailbox.next(waiting);
  expect((await tarn.admin('POST', `${P}/users/${pending.body.id}/invitation`)).status).toBe(202);
  await mailbox.next(waiting);
  expect((await tarn.admin('POST', `${P}/users/invitations`, { userIds: [pending.body.id], resend: true })).status).toBe(200);
  expect((await tarn.admin('POST', `${P}/users/${user.id}/password-reset`)).status).toBeLessThan(300);

  // A self-registration.
  const registering = new Browser(tarn.url);
  const login = (await startAuthorization(config, registering)).page;
  const form = await registering.get(/href="([^"]+\/register)"/.exec(login.html)![1]!);
  const newcomer = `${uniqueId('newcomer')}@example.test`;
  const verify = await registering.submit(form, { email: newcomer, password: 'a long enough passphrase' });
  expect((await registering.submit(verify, { code: codeIn(await mailbox.next(newcomer)) }, '/verify')).status).toBe(200);

  // Groups and membership.
  const group = await tarn.admin('POST', `${P}/groups`, { name: 'Staff' });
  expect((await tarn.admin('PATCH', `${P}/groups/${group.body.id}`, { description: 'Everyone' })).status).toBe(200);
  expect((await tarn.admin('PUT', `${P}/groups/${group.body.id}/members/${user.id}`)).status).toBe(204);
  expect((await tarn.admin('DELETE', `${P}/groups/${group.body.id}/members/${user.id}`)).status).toBe(204);
  expect((await tarn.admin('DELETE', `${P}/groups/${group.body.id}`)).status).toBe(204);

  // What an admin ends or removes of a user, the export of hashes, and deletion.
  expect((await tarn.admin('DELETE', `${P}/users/${user.id}/sessions`)).status).toBe(204);
  const nobody = '00000000-0000-4000-8000-000000000000';
  expect((await tarn.admin('DELETE', `${P}/users/${user.id}/passkeys/${nobody}`)).status).toBe(404);
  expect((await tarn.admin('DELETE', `${P}/users/${user.id}/factors/${nobody}`)).status).toBe(404);
  expect((await tarn.admin('DELETE', `${P}/users/${user.id}/identities/nowhere`)).status).toBe(404);
  expect(
    (await fetch(`${tarn.url}/admin${P}/users/export?includePasswordHashes=true`, { headers: { authorization: `Bearer ${tarn.adminToken}` } })).status,
  ).toBe(200);
  expect((await tarn.admin('DELETE', `${P}/users/${back.id}`)).status).toBe(204);
  expect((await tarn.admin('GET', P, undefined, { authorization: 'Bearer not-the-admin-token' })).status).toBe(401);

  // Webhooks: changed, rotated, a test event, a redelivery, one that fails until Tarn disables it, one deleted.
  expect((await tarn.admin('PATCH', `${P}/webhooks/${hook.body.id}`, { description: 'Everything' })).status).toBe(200);
  const newSecret = await tarn.admin('POST', `${P}/webhooks/${hook.body.id}/secret/rotate`, { graceSeconds: 3600 });
  to.secrets.push((newSecret.body.secret as { value: string }).value);
  const test = await tarn.admin('POST', `${P}/webhooks/${hook.body.id}/test`);
  expect(test.status).toBe(202);
  await to.until((items) => items.some((item) => item.webhookId === test.body.eventId), 'the test event');
  expect((await tarn.admin('POST', `${P}/webhooks/${hook.body.id}/deliveries/${test.body.deliveryId}/redeliver`)).status).toBe(202);
  const down = await startWebhookReceiver();
  receivers.push(down);
  down.failWith(503);
  const failing = await tarn.admin('POST', `${P}/webhooks`, { url: down.url, eventTypes: ['webhook.test'] });
  expect((await tarn.admin('POST', `${P}/webhooks/${failing.body.id}/test`)).status).toBe(202);
  await to.until((items) => items.some((item) => item.type === 'webhook.disabled'), 'the failing webhook disabled', 30_000);
  expect((await tarn.admin('DELETE', `${P}/webhooks/${failing.body.id}`)).status).toBe(204);

  const documented = documentedTypes();
  const expected = documented.filter((type) => !(type in ELSEWHERE));
  const received = await to
    .until((items) => expected.every((type) => items.some((item) => item.type === type)), 'every type of the catalogue', 20_000)
    .catch(() => to.received);
  const types = [...new Set(received.map((item) => item.type))].sort();
  // Nothing arrives that the catalogue does not describe, and nothing it describes is missing.
  expect({ undocumented: types.filter((type) => !documented.includes(type)), missing: expected.filter((type) => !types.includes(type)) }).toEqual({
    undocumented: [],
    missing: [],
  });
  expect(Object.keys(ELSEWHERE).filter((type) => !documented.includes(type))).toEqual([]);
  expect(to.unverified).toBe(0);
  for (const item of received) expect(item.data.pool).toBe(pool.id);
  // Nothing secret travelled.
  // (What the receiver keeps beside each event names the secret that verified it: only what was sent counts.)
  const everything = JSON.stringify(received.map((item) => ({ type: item.type, data: item.data })));
  for (const secret of [clientSecret, user.password, 'a long enough passphrase', tokens.refresh_token!, (hook.body.secret as { value: string }).value]) {
    expect(everything).not.toContain(secret);
  }
}, 180_000);
