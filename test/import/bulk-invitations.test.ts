/**
 * Imported users of status "new" are invited in bulk: the mails arrive at a real SMTP
 * server, an invitation activates the account, and the report names every user left out
 * and why (not new, already invited, unknown, mailed too recently).
 */
import { Browser, visibleText } from '../support/browser.js';
import { createClient, createPool } from '../support/fixtures.js';
import { discover, signIn } from '../support/relying-party.js';
import { linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
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

async function importNdjson(poolId: string, lines: unknown[]) {
  const response = await fetch(`${tarn.url}/admin/pools/${poolId}/users/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tarn.adminToken}`, 'content-type': 'application/x-ndjson' },
    body: lines.map((line) => JSON.stringify(line)).join('\n'),
  });
  expect(response.status).toBe(200);
  return response.json();
}

async function idOf(poolId: string, email: string): Promise<string> {
  const found = await tarn.admin('GET', `/pools/${poolId}/users?email=${encodeURIComponent(email)}`);
  return found.body.items[0].id as string;
}

it('invites every imported user of status "new"; an invitation activates the account, and a second run skips no one twice', async () => {
  const pool = await createPool(tarn, { name: 'Harbour Outfitters' });
  const app = await createClient(tarn, pool.id);
  const fresh = ['ada@example.test', 'brian@example.test', 'chloe@example.test'];
  const report = await importNdjson(pool.id, [
    ...fresh.map((email) => ({ email, status: 'new' })),
    { email: 'active@example.test', status: 'active', password: 'an active password' },
  ]);
  expect(report).toMatchObject({ created: 4, failed: 0 });

  const sent = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, {});
  expect(sent.status).toBe(200);
  expect(sent.body.sent.map((item: { email: string }) => item.email).sort()).toEqual(fresh);
  expect(sent.body.skipped).toEqual([]);
  expect(sent.body.more).toBe(false);

  const mails = await Promise.all(fresh.map((email) => mailbox.next(email)));
  for (const mail of mails) expect(mail.subject).toBe('You are invited to Harbour Outfitters');

  // Following the link activates the account, and the user signs in to an application.
  const browser = new Browser(tarn.url);
  const done = await browser.submit(await browser.get(linkIn(mails[0]!)), { password: 'a fine long password' });
  expect(visibleText(done.html)).toContain('Your account is ready');
  const config = await discover(pool.issuer, app.clientId, app.secret?.value);
  const { tokens } = await signIn(config, tarn.url, { email: fresh[0]!, password: 'a fine long password' });
  expect(tokens.claims()?.email).toBe(fresh[0]);

  // Users with a live invitation are not selected again.
  const again = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, {});
  expect(again.body).toEqual({ sent: [], skipped: [], more: false });

  const audit = await tarn.admin('GET', `/pools/${pool.id}/audit`);
  expect(audit.status).toBe(200);
  expect(audit.body.items.filter((item: { action: string }) => item.action.includes('invitations'))).toEqual([
    expect.objectContaining({ action: 'users.invitations', outcome: 'success', details: expect.objectContaining({ sent: 0, skipped: 0 }) }),
    expect.objectContaining({ action: 'users.invitations', outcome: 'success', details: expect.objectContaining({ sent: 3, skipped: 0 }) }),
  ]);
});

it('names each user left out of a list, with the reason', async () => {
  const pool = await createPool(tarn);
  await importNdjson(pool.id, [
    { email: 'dora@example.test', status: 'new' },
    { email: 'eli@example.test', status: 'new' },
    { email: 'fay@example.test', status: 'active', password: 'a long enough password' },
  ]);
  const [dora, eli, fay] = await Promise.all(['dora@example.test', 'eli@example.test', 'fay@example.test'].map((email) => idOf(pool.id, email)));
  const first = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, { userIds: [dora] });
  expect(first.body.sent).toEqual([expect.objectContaining({ userId: dora, email: 'dora@example.test' })]);
  await mailbox.next('dora@example.test');

  const unknown = '00000000-0000-4000-8000-000000000000';
  const report = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, { userIds: [dora, eli, fay, unknown, 'not-an-id'] });
  expect(report.status).toBe(200);
  expect(report.body.sent).toEqual([expect.objectContaining({ userId: eli, email: 'eli@example.test' })]);
  expect(report.body.skipped).toEqual([
    expect.objectContaining({ userId: unknown, email: null, reason: 'not_found' }),
    expect.objectContaining({ userId: 'not-an-id', email: null, reason: 'not_found' }),
    expect.objectContaining({ userId: dora, email: 'dora@example.test', reason: 'already_invited' }),
    expect.objectContaining({ userId: fay, email: 'fay@example.test', reason: 'not_new' }),
  ]);
  await mailbox.next('eli@example.test');

  // resend replaces a live invitation, but not within the per-address mail limit.
  const tooSoon = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, { userIds: [dora], resend: true });
  expect(tooSoon.body.skipped).toEqual([expect.objectContaining({ userId: dora, reason: 'rate_limited', detail: expect.stringContaining('too recently') })]);
  offsetMs = 60_000;
  const later = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, { userIds: [dora], resend: true });
  offsetMs = 0;
  expect(later.body.sent).toEqual([expect.objectContaining({ userId: dora })]);
  await mailbox.next('dora@example.test');
});

it('refuses a malformed request with a problem naming the field, and a user of another pool is unknown here', async () => {
  const poolA = await createPool(tarn);
  const poolB = await createPool(tarn);
  await importNdjson(poolA.id, [{ email: 'gil@example.test', status: 'new' }]);
  const gil = await idOf(poolA.id, 'gil@example.test');
  const atB = await tarn.admin('POST', `/pools/${poolB.id}/users/invitations`, { userIds: [gil] });
  expect(atB.body).toEqual({ sent: [], skipped: [expect.objectContaining({ userId: gil, reason: 'not_found' })], more: false });
  const none = await tarn.admin('POST', `/pools/${poolB.id}/users/invitations`, {});
  expect(none.body).toEqual({ sent: [], skipped: [], more: false });

  const bad = await tarn.admin('POST', `/pools/${poolA.id}/users/invitations`, { userIds: [], limit: 0 });
  expect(bad.status).toBe(400);
  expect(bad.headers.get('content-type')).toContain('application/problem+json');
  expect(JSON.stringify(bad.body)).toMatch(/userIds/);
  expect(JSON.stringify(bad.body)).toMatch(/limit/);
});

it('invites at most `limit` users and says more are waiting', async () => {
  const pool = await createPool(tarn);
  await importNdjson(
    pool.id,
    ['h1', 'h2', 'h3'].map((name) => ({ email: `${name}@example.test`, status: 'new' })),
  );
  const first = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, { limit: 2 });
  expect(first.body.sent).toHaveLength(2);
  expect(first.body.more).toBe(true);
  const rest = await tarn.admin('POST', `/pools/${pool.id}/users/invitations`, { limit: 2 });
  expect(rest.body.sent).toHaveLength(1);
  expect(rest.body.more).toBe(false);
  const all = [...first.body.sent, ...rest.body.sent].map((item: { email: string }) => item.email).sort();
  expect(all).toEqual(['h1@example.test', 'h2@example.test', 'h3@example.test']);
  await Promise.all(all.map((email) => mailbox.next(email)));
});
