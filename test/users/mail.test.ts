/**
 * Mail: branded text + HTML templates; without SMTP_URL (never in production) each message is
 * written to the log (one marked line, the only place its code or link appears); a mailer passed to createApp is used.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createMailer } from '../../src/mail/mailer.js';
import { invitationMail, signInCodeMail, verificationMail } from '../../src/mail/templates.js';
import type { MailMessage } from '../../src/mail/mailer.js';
import { createPool, uniqueId } from '../support/fixtures.js';
import { startTarn } from '../support/tarn.js';

function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

it('templates carry the pool name in text and HTML, and escape what they are given', () => {
  const pool = { name: 'Acme <Staff> & Co', tagColor: '#112233' };
  const invitation = invitationMail(pool, 'a@example.test', 'https://tarn.example/pools/acme/activate?token=abc', '123456', new Date('2030-01-01T00:00:00Z'));
  expect(invitation.subject).toBe('You are invited to Acme <Staff> & Co');
  expect(invitation.text).toContain('https://tarn.example/pools/acme/activate?token=abc');
  expect(invitation.text).toContain('123456');
  expect(invitation.html).toContain('Acme &lt;Staff&gt; &amp; Co');
  expect(invitation.html).not.toContain('<Staff>');
  expect(verificationMail(pool, 'a@example.test', '654321', 10).text).toContain('654321');
  const signIn = signInCodeMail(pool, 'a@example.test', '000111', 10);
  expect(signIn.subject).toBe('000111 is your Acme <Staff> & Co sign-in code');
  expect(signIn.html).toContain('expires in 10 minutes');
});

it('without SMTP_URL outside production, mail goes to the log under a development-only marker', async () => {
  const { log, lines } = captureLog();
  await createMailer({ smtpUrl: undefined, from: 'x@y', log, production: false }).send({
    to: 'a@example.test',
    subject: 'Hello',
    text: 'code 123456',
    html: '<p>code</p>',
  });
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]!);
  expect(entry.mail).toEqual({ to: 'a@example.test', subject: 'Hello', text: 'code 123456' });
  expect(entry.msg).toMatch(/^DEVELOPMENT ONLY: mail not sent \(no SMTP_URL\)/);
});

it('in production there is no log mailer to fall back on', () => {
  const { log } = captureLog();
  expect(() => createMailer({ smtpUrl: undefined, from: 'x@y', log, production: true })).toThrow('production needs SMTP_URL');
});

it("an invitation's link appears in the mail line of the log and in no other line", async () => {
  const { log, lines } = captureLog();
  const tarn = await startTarn({ LOG_LEVEL: 'info' }, undefined, { log });
  try {
    const pool = await createPool(tarn);
    const created = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: `${uniqueId('x')}@example.test`, mode: 'invite' });
    expect(created.status).toBe(201);
    const mailLines = lines.filter((line) => line.includes('"mail"'));
    expect(mailLines).toHaveLength(1);
    const token = /token=([A-Za-z0-9_-]+)/.exec(mailLines[0]!)![1]!;
    const code = /code on the activation page: (\d{6})/.exec(mailLines[0]!)![1]!;
    expect(lines.filter((line) => line.includes(token) || line.includes(code))).toEqual(mailLines);
  } finally {
    await tarn.close();
  }
});

it('uses the mailer passed to createApp', async () => {
  const sent: MailMessage[] = [];
  const tarn = await startTarn({}, undefined, { mailer: { send: async (message) => void sent.push(message) } });
  try {
    const pool = await createPool(tarn, { name: 'Own Mailer' });
    await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'own@example.test', mode: 'invite' });
    expect(sent.map((message) => [message.to, message.subject])).toEqual([['own@example.test', 'You are invited to Own Mailer']]);
  } finally {
    await tarn.close();
  }
});

it('a failed invitation mail is a 503 problem that says the user exists', async () => {
  const tarn = await startTarn({}, undefined, {
    mailer: {
      send: async () => {
        throw new Error('smtp down');
      },
    },
  });
  try {
    const pool = await createPool(tarn);
    const response = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: 'down@example.test', mode: 'invite' });
    expect(response.status).toBe(503);
    expect(response.body.detail).toContain('send the invitation again');
    const listed = await tarn.admin('GET', `/pools/${pool.id}/users?email=down@example.test`);
    expect(listed.body.items[0].status).toBe('new');
  } finally {
    await tarn.close();
  }
});
