/**
 * Mail an anonymous visitor can make Tarn send (registration codes, the "you already have an
 * account" notice, sign-in codes) passes one set of limits (ADR 0304): one request per
 * address per 30 s, five per address per hour, twenty per client IP per hour. And the answer
 * never waits for the work that depends on the account, so it is the same, and as fast, for
 * an address with an account as for one without.
 */
import pg from 'pg';
import { Browser, visibleText, type Page } from '../support/browser.js';
import { createClient, createPool, createUser, uniqueId } from '../support/fixtures.js';
import { discover, startAuthorization } from '../support/relying-party.js';
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

type Config = Awaited<ReturnType<typeof discover>>;

async function setUp() {
  const pool = await createPool(tarn, { name: 'Mail Town', selfRegistration: true, signIn: { password: true, emailCode: true } });
  const app = await createClient(tarn, pool.id);
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  return { pool, config };
}

async function loginPage(config: Config) {
  const browser = new Browser(tarn.url);
  const { page } = await startAuthorization(config, browser);
  return { browser, page };
}

/** "Email me a code" from a fresh browser. */
async function askForCode(config: Config, email: string): Promise<Page> {
  const { browser, page } = await loginPage(config);
  return browser.submit(page, { email }, '/email-code');
}

/** The registration form submitted from a fresh browser. */
async function register(config: Config, email: string): Promise<Page> {
  const { browser, page } = await loginPage(config);
  const form = await browser.get(/href="([^"]+\/register)"/.exec(page.html)![1]!);
  return browser.submit(form, { email, password: 'a long and lovely password' });
}

const mailsTo = (email: string) => mailbox.mails.filter((mail) => mail.to.includes(email.toLowerCase()));

it('five registrations of one address in a row send one mail; after the resend interval, another', async () => {
  const { config } = await setUp();
  const email = `${uniqueId('flood')}@example.test`;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const page = await register(config, email);
    expect(page.status).toBe(200);
    expect(visibleText(page.html)).toContain('Check your email');
  }
  await mailbox.next(email);
  // Each answer above came after its request was counted or refused; 31 s later one more is allowed.
  offsetMs = 31_000;
  await register(config, email);
  await mailbox.next(email);
  expect(mailsTo(email)).toHaveLength(2);
});

it('an address gets at most five mails an hour, whichever page asks for them', async () => {
  const { pool, config } = await setUp();
  const user = await createUser(tarn, pool.id);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    offsetMs = attempt * 31_000;
    const page = attempt % 2 === 0 ? await askForCode(config, user.email) : await register(config, user.email);
    expect(page.status).toBe(200);
    await mailbox.next(user.email);
  }
  // The sixth within the hour: the same answer, and nothing is sent.
  offsetMs = 5 * 31_000;
  const sixth = await askForCode(config, user.email);
  expect(sixth.status).toBe(200);
  expect(visibleText(sixth.html)).toContain(`If ${user.email} has an account, we sent it a 6-digit code`);
  // An hour later the address may be mailed again: the next mail to arrive is that registration's
  // notice, not a sign-in code for the sixth request, which was never sent.
  offsetMs = 60 * 60_000 + 6 * 31_000;
  await register(config, user.email);
  expect((await mailbox.next(user.email)).text).toContain('already has one');
  expect(mailsTo(user.email)).toHaveLength(6);
});

it('a network gets at most twenty mail requests an hour, then is told so', async () => {
  const { config } = await setUp();
  for (let attempt = 0; attempt < 19; attempt += 1) expect((await askForCode(config, `${uniqueId('spray')}@example.test`)).status).toBe(200);
  const twentieth = `${uniqueId('spray')}@example.test`;
  expect((await register(config, twentieth)).status).toBe(200);
  await mailbox.next(twentieth);

  const refused = await register(config, `${uniqueId('spray')}@example.test`);
  expect(refused.status).toBe(429);
  expect(visibleText(refused.html)).toContain('Too many emails were requested from your network');
  const refusedCode = await askForCode(config, `${uniqueId('spray')}@example.test`);
  expect(refusedCode.status).toBe(429);
  expect(visibleText(refusedCode.html)).toContain('Too many emails were requested from your network');
});

/** Resolves with the promise's value, or fails the test when it takes longer than `ms`. */
function answeredWithin<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref())]);
}

// Holding a lock from a second connection needs PostgreSQL (PGlite has one connection).
const onPostgres = process.env.DATABASE_URL ? it : it.skip;

onPostgres('the answer never waits for work that depends on the account: the same page, sent before any code is written', async () => {
  const { pool, config } = await setUp();
  const user = await createUser(tarn, pool.id);
  const unknown = `${uniqueId('nobody')}@example.test`;
  const newcomer = `${uniqueId('newcomer')}@example.test`;
  // While a second connection holds the one-time codes table, no code can be read or written.
  const holder = new pg.Client({ connectionString: tarn.database.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE one_time_codes IN ACCESS EXCLUSIVE MODE');
    const known = await answeredWithin(5000, askForCode(config, user.email), 'email me a code (account)');
    const stranger = await answeredWithin(5000, askForCode(config, unknown), 'email me a code (no account)');
    const registered = await answeredWithin(5000, register(config, newcomer), 'registration (new address)');
    expect([known.status, stranger.status, registered.status]).toEqual([200, 200, 200]);
    const comparable = (page: Page, email: string) =>
      page.html
        .replace(/name="csrf" value="[^"]+"/g, '')
        .replace(/\/interaction\/[^/]+\//g, '/interaction/UID/')
        .replaceAll(email, 'EMAIL');
    expect(comparable(known, user.email)).toBe(comparable(stranger, unknown));
    expect(mailsTo(user.email)).toHaveLength(0);
  } finally {
    await holder.query('COMMIT');
    await holder.end();
  }
  // Once the table is free, the work that waited sends the mails.
  expect(codeIn(await mailbox.next(user.email))).toMatch(/^\d{6}$/);
  expect(codeIn(await mailbox.next(newcomer))).toMatch(/^\d{6}$/);
});
