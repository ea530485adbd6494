/**
 * Email one-time code sign-in (pool signIn.emailCode): "email me a code" on the login
 * page, 6 digits from a real SMTP server, 10 minutes, 5 attempts, single use; the same
 * page whether or not the email has an account.
 */
import { Browser, visibleText, type Page } from '../support/browser.js';
import { createClient, createPool, createUser } from '../support/fixtures.js';
import { discover, finishAuthorization, startAuthorization } from '../support/relying-party.js';
import { codeIn, startMailbox, type Mailbox } from '../support/smtp.js';
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

async function setUp(signIn: Record<string, boolean> = { emailCode: true }) {
  const pool = await createPool(tarn, { name: 'Code Town', signIn });
  const app = await createClient(tarn, pool.id);
  const user = await createUser(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const browser = new Browser(tarn.url);
  const start = await startAuthorization(config, browser, { scope: 'openid email' });
  return { pool, user, config, browser, start };
}

const askForCode = (browser: Browser, login: Page, email: string) => browser.submit(login, { email }, '/email-code');

/** Presses "Send a new code" on the code page. */
function askAgain(browser: Browser, page: Page) {
  const action = /action="([^"]*\/email-code)"/.exec(page.html)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
  const email = /name="email" value="([^"]+)"/.exec(page.html)![1]!;
  return browser.navigate('POST', action, { csrf, email });
}

it('signs in with a code sent by email, once', async () => {
  const { user, config, browser, start } = await setUp();
  expect(visibleText(start.page.html)).toContain('Email me a code');
  const codePage = await askForCode(browser, start.page, user.email);
  expect(codePage.status).toBe(200);
  expect(visibleText(codePage.html)).toContain(`If ${user.email} has an account, we sent it a 6-digit code`);
  const mail = await mailbox.next(user.email);
  expect(mail.subject).toMatch(/^\d{6} is your Code Town sign-in code$/);
  const code = codeIn(mail);

  const consent = await browser.submit(codePage, { code }, '/verify');
  const done = await browser.submit(consent, { decision: 'allow' });
  const { tokens } = await finishAuthorization(config, done.leftTo, start);
  expect(tokens.claims()).toMatchObject({ sub: user.id, email: user.email });
  // The code reached the user's mailbox: the address now counts as verified.
  expect(tokens.claims()!.email_verified).toBe(true);

  // The same code never works twice (asking for an unknown email sends no new code).
  const secondBrowser = new Browser(tarn.url);
  const again = await startAuthorization(config, secondBrowser, { scope: 'openid email' });
  const page = await askForCode(secondBrowser, again.page, 'nobody-has-this@example.test');
  const reused = await secondBrowser.submit(page, { email: user.email, code }, '/verify');
  expect(reused.status).toBe(401);
});

it('answers the same for an unknown email, and sends nothing', async () => {
  const { browser, start } = await setUp();
  const before = mailbox.mails.length;
  const page = await askForCode(browser, start.page, 'no-such-person@example.test');
  expect(page.status).toBe(200);
  expect(visibleText(page.html)).toContain('If no-such-person@example.test has an account, we sent it a 6-digit code');
  const wrong = await browser.submit(page, { code: '123456' }, '/verify');
  expect(wrong.status).toBe(401);
  expect(visibleText(wrong.html)).toContain('That code is wrong or has expired');
  // A code asked for afterwards by someone who has an account is the signal that mail went out.
  const { user, browser: other, start: otherStart } = await setUp();
  await askForCode(other, otherStart.page, user.email);
  await mailbox.next(user.email);
  expect(mailbox.mails.slice(before).some((mail) => mail.to.includes('no-such-person@example.test'))).toBe(false);
});

it('refuses a wrong code, then accepts the right one', async () => {
  const { user, browser, start } = await setUp();
  const page = await askForCode(browser, start.page, user.email);
  const code = codeIn(await mailbox.next(user.email));
  const wrongCode = code === '000000' ? '000001' : '000000';
  const wrong = await browser.submit(page, { code: wrongCode }, '/verify');
  expect(wrong.status).toBe(401);
  expect(visibleText(wrong.html)).toContain('That code is wrong or has expired');
  const consent = await browser.submit(wrong, { code }, '/verify');
  expect(visibleText(consent.html)).toContain('Allow access');
});

it('refuses an expired code (10 minutes)', async () => {
  const { user, browser, start } = await setUp();
  const page = await askForCode(browser, start.page, user.email);
  const code = codeIn(await mailbox.next(user.email));
  offsetMs = 10 * 60 * 1000 + 1000;
  const late = await browser.submit(page, { code }, '/verify');
  expect(late.status).toBe(401);
  expect(visibleText(late.html)).toContain('That code is wrong or has expired');
});

it('stops accepting a code after five wrong attempts, even the right one', async () => {
  const { pool, user, browser, start } = await setUp();
  // A generous lockout so that only the code's own bound is at work.
  await tarn.admin('PATCH', `/pools/${pool.id}`, { lockout: { maxAttempts: 50 } });
  let page = await askForCode(browser, start.page, user.email);
  const code = codeIn(await mailbox.next(user.email));
  const wrongCode = code === '000000' ? '000001' : '000000';
  for (let attempt = 0; attempt < 5; attempt += 1) {
    page = await browser.submit(page, { code: wrongCode }, '/verify');
    expect(page.status).toBe(401);
  }
  const right = await browser.submit(page, { code }, '/verify');
  expect(right.status).toBe(401);
  expect(visibleText(right.html)).toContain('That code is wrong or has expired');

  // A new code works.
  offsetMs = 31 * 1000;
  const fresh = await askAgain(browser, right);
  const consent = await browser.submit(fresh, { code: codeIn(await mailbox.next(user.email)) }, '/verify');
  expect(visibleText(consent.html)).toContain('Allow access');
});

it('a new code replaces the previous one', async () => {
  const { user, browser, start } = await setUp();
  const page = await askForCode(browser, start.page, user.email);
  const first = codeIn(await mailbox.next(user.email));
  // Within 30 seconds a second request sends nothing (no mailbox flooding)…
  const tooSoon = await askAgain(browser, page);
  expect(tooSoon.status).toBe(200);
  // Another user's code, asked for afterwards, is the signal that mail went out.
  const signal = await setUp();
  await askForCode(signal.browser, signal.start.page, signal.user.email);
  await mailbox.next(signal.user.email);
  expect(mailbox.mails.filter((mail) => mail.to.includes(user.email.toLowerCase()))).toHaveLength(1);
  // …after that, a new code replaces the first.
  offsetMs = 31 * 1000;
  const resent = await askAgain(browser, tooSoon);
  expect(resent.status).toBe(200);
  const second = codeIn(await mailbox.next(user.email));
  if (first !== second) {
    const old = await browser.submit(resent, { code: first }, '/verify');
    expect(old.status).toBe(401);
  }
  const consent = await browser.submit(resent, { code: second }, '/verify');
  expect(visibleText(consent.html)).toContain('Allow access');
});

it('without emailCode the login page offers no code and the route is a branded 404', async () => {
  const { browser, start, user } = await setUp({ emailCode: false });
  expect(visibleText(start.page.html)).not.toContain('Email me a code');
  const action = /action="([^"]+)"/.exec(start.page.html)![1]!.replace(/\/login$/, '/email-code');
  const csrf = /name="csrf" value="([^"]+)"/.exec(start.page.html)![1]!;
  const page = await browser.navigate('POST', action, { csrf, email: user.email });
  expect(page.status).toBe(404);
  expect(visibleText(page.html)).toContain('Code Town');
  expect(visibleText(page.html)).toContain('This way of signing in is not offered here.');
});

it('a pool that signs in by code only shows no password field and refuses passwords', async () => {
  const { user, browser, start } = await setUp({ password: false, emailCode: true });
  expect(start.page.html).not.toContain('name="password"');
  expect(visibleText(start.page.html)).toContain('Email me a code');
  const action = /action="([^"]+)\/email-code"/.exec(start.page.html)![1]! + '/login';
  const csrf = /name="csrf" value="([^"]+)"/.exec(start.page.html)![1]!;
  const refused = await browser.navigate('POST', action, { csrf, email: user.email, password: user.password });
  expect(refused.status).toBe(404);
  expect(visibleText(refused.html)).toContain('This way of signing in is not offered here.');
  const codePage = await askForCode(browser, start.page, user.email);
  const consent = await browser.submit(codePage, { code: codeIn(await mailbox.next(user.email)) }, '/verify');
  expect(visibleText(consent.html)).toContain('Allow access');
});
