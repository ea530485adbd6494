/**
 * An administrator invites a person (mode "invite", as in GenAuth and SecureAuth pools):
 * the invitation arrives through a real SMTP server, the person follows the link, chooses
 * a password (the pool's policy applies) and signs in to an application with openid-client.
 * A link works once, a resend replaces it, an expired link says so.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool, uniqueId } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let offsetMs = 0;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url }, undefined, { clock: () => new Date(Date.now() + offsetMs) });
});
afterAll(async () => {
  await tarn?.close();
  await mailbox?.close();
});
afterEach(() => {
  offsetMs = 0;
});

async function invite(poolId: string, fields: Record<string, unknown> = {}) {
  const email = `${uniqueId('invitee')}@example.test`;
  const response = await tarn.admin('POST', `/pools/${poolId}/users`, { email, mode: 'invite', ...fields });
  expect(response.status).toBe(201);
  return { email, user: response.body as { id: string; status: string; hasPassword: boolean; invitation: { sentTo: string; expiresAt: string } } };
}

it('invites a user by email; the link sets a password and the user signs in to an application', async () => {
  const pool = await createPool(tarn, { name: 'Northwind Partners' });
  const app = await createClient(tarn, pool.id);
  const { email, user } = await invite(pool.id, { profile: { name: 'Grace Hopper' } });
  expect(user.status).toBe('new');
  expect(user.hasPassword).toBe(false);
  expect(user.invitation.sentTo).toBe(email);

  const mail = await mailbox.next(email);
  expect(mail.subject).toBe('You are invited to Northwind Partners');
  expect(mail.html).toContain('Northwind Partners');
  const link = linkIn(mail);
  expect(link).toMatch(new RegExp(`^${tarn.url}/pools/${pool.id}/activate\\?token=`));
  expect(codeIn(mail)).toMatch(/^\d{6}$/);

  // Before activation the user cannot sign in.
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  await expect(signIn(config, tarn.url, { email, password: 'anything-at-all' })).rejects.toThrow(/expected a redirect/);

  const browser = new Browser(tarn.url);
  const form = await browser.get(link);
  expect(form.status).toBe(200);
  expect(visibleText(form.html)).toContain(`Choose a password for ${email}`);

  // The pool's password policy applies, and the page names the rule.
  const weak = await browser.submit(form, { password: 'short' });
  expect(weak.status).toBe(400);
  expect(visibleText(weak.html)).toContain('Your password needs at least 8 characters.');
  expect(visibleText(weak.html)).not.toContain('minLength');
  const containsEmail = await browser.submit(weak, { password: `${email}-2024` });
  expect(visibleText(containsEmail.html)).toContain('Your password must not contain your email address.');
  expect(visibleText(containsEmail.html)).not.toContain('notEmail');

  const done = await browser.submit(containsEmail, { password: 'correct horse battery' });
  expect(done.status).toBe(200);
  expect(visibleText(done.html)).toContain('Your account is ready');

  const activated = await tarn.admin('GET', `/pools/${pool.id}/users/${user.id}`);
  expect(activated.body).toMatchObject({ status: 'active', emailVerified: true, hasPassword: true });

  const { tokens } = await signIn(config, tarn.url, { email, password: 'correct horse battery' });
  expect(tokens.claims()).toMatchObject({ sub: user.id, email, name: 'Grace Hopper' });

  // Reusing the link shows a clear page, not a form.
  const again = await new Browser(tarn.url).get(link);
  expect(again.status).toBe(410);
  expect(visibleText(again.html)).toContain('Invitation link no longer valid');
  expect(visibleText(again.html)).toContain('Northwind Partners');
  expect(again.html).not.toContain('name="password"');
});

it('a resent invitation replaces the previous one', async () => {
  const pool = await createPool(tarn);
  const { email, user } = await invite(pool.id);
  const first = linkIn(await mailbox.next(email));
  const resent = await tarn.admin('POST', `/pools/${pool.id}/users/${user.id}/invitation`);
  expect(resent.status).toBe(202);
  const second = linkIn(await mailbox.next(email));
  expect(second).not.toBe(first);

  expect((await new Browser(tarn.url).get(first)).status).toBe(410);
  const browser = new Browser(tarn.url);
  const done = await browser.submit(await browser.get(second), { password: 'a fine long password' });
  expect(visibleText(done.html)).toContain('Your account is ready');

  // An active user has nothing to be invited to.
  const late = await tarn.admin('POST', `/pools/${pool.id}/users/${user.id}/invitation`);
  expect(late.status).toBe(409);
});

it('the code from the mail activates the account too, and a wrong code does not', async () => {
  const pool = await createPool(tarn);
  const { email } = await invite(pool.id);
  const code = codeIn(await mailbox.next(email));
  const browser = new Browser(tarn.url);
  const form = await browser.get(`/pools/${pool.id}/activate`);
  const wrong = await browser.submit(form, { email, code: code === '000000' ? '111111' : '000000', password: 'a fine long password' });
  expect(wrong.status).toBe(401);
  expect(visibleText(wrong.html)).toContain('That code is wrong or has expired');
  const done = await browser.submit(wrong, { email, code, password: 'a fine long password' });
  expect(visibleText(done.html)).toContain('Your account is ready');
});

it('an invitation expires after seven days', async () => {
  const pool = await createPool(tarn);
  const { email } = await invite(pool.id);
  const link = linkIn(await mailbox.next(email));
  offsetMs = 7 * 24 * 60 * 60 * 1000 + 1000;
  const page = await new Browser(tarn.url).get(link);
  expect(page.status).toBe(410);
  expect(visibleText(page.html)).toContain('expired');
});

it('refuses an activation form without its CSRF token', async () => {
  const pool = await createPool(tarn);
  const { email } = await invite(pool.id);
  const link = linkIn(await mailbox.next(email));
  const token = new URL(link).searchParams.get('token')!;
  const forged = await new Browser(tarn.url).navigate('POST', `/pools/${pool.id}/activate`, { token, password: 'a fine long password', csrf: 'forged' });
  expect(forged.status).toBe(403);
});

it('an invitation link of one pool means nothing at another pool', async () => {
  const poolA = await createPool(tarn);
  const poolB = await createPool(tarn);
  const { email } = await invite(poolA.id);
  const token = new URL(linkIn(await mailbox.next(email))).searchParams.get('token')!;
  const page = await new Browser(tarn.url).get(`/pools/${poolB.id}/activate?token=${token}`);
  expect(page.status).toBe(410);
});
