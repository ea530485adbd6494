/**
 * Where the "add a passkey" step is offered besides after a password sign-in (ADR 0500):
 * after an email-code sign-in — the recovery path of a user whose passkey is on a lost
 * device, offered even when they have passkeys — and right after invitation activation.
 * Only in pools that offer passkeys.
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool } from '../support/fixtures.js';
import { discover, finishAuthorization, startAuthorization } from '../support/relying-party.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url });
});
afterAll(async () => {
  await tarn?.close();
  await mailbox?.close();
});

async function invite(poolId: string) {
  const email = `invitee-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const response = await tarn.admin('POST', `/pools/${poolId}/users`, { email, mode: 'invite' });
  expect(response.status).toBe(201);
  return { email, id: response.body.id as string };
}

async function activate(email: string) {
  const browser = new Browser(tarn.url);
  const form = await browser.get(linkIn(await mailbox.next(email)));
  return browser.submit(form, { password: 'a long enough passphrase' });
}

it.each([
  [true, 'Add a passkey'],
  [false, 'Your account is ready'],
])('after activation, a pool with passkey=%s shows %j', async (passkey, heading) => {
  const pool = await createPool(tarn, { signIn: { password: true, emailCode: true, passkey } });
  const { email } = await invite(pool.id);
  const done = await activate(email);
  expect(done.status).toBe(200);
  const text = visibleText(done.html);
  expect(text.toLowerCase()).toContain(heading.toLowerCase());
  expect(text.includes('Add a passkey')).toBe(passkey);
});

it('after an email-code sign-in the user is offered a passkey, and may skip it to reach the application', async () => {
  const pool = await createPool(tarn, { name: 'Recovery Pool', signIn: { password: true, emailCode: true, passkey: true } });
  const app = await createClient(tarn, pool.id);
  const { email } = await invite(pool.id);
  await activate(email);
  // Skip the offer made at activation: the user has no passkey yet.
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser, { scope: 'openid email' });
  const codePage = await browser.submit(start.page, { email }, '/email-code');
  const offer = await browser.submit(codePage, { code: codeIn(await mailbox.next(email)) }, '/verify');
  expect(visibleText(offer.html)).toContain('Add a passkey');
  const skipUrl = /<a href="([^"]+)" id="passkey-skip"/.exec(offer.html)![1]!;
  const consent = await browser.get(new URL(skipUrl.replace(/&amp;/g, '&'), offer.url).href);
  const done = consent.leftTo ? consent : await browser.submit(consent, { decision: 'allow' });
  const { tokens } = await finishAuthorization(config, done.leftTo, start);
  expect(tokens.claims()!.email).toBe(email);
});
