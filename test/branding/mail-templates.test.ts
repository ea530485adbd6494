/**
 * A pool's own mail templates, set through the admin API and sent through a real SMTP
 * server: the pool's brand (logo, colour, footer) around the administrator's words, values
 * escaped, no template logic, and a preview of what users would get.
 */
import { createPool, uniqueId } from '../support/fixtures.js';
import { onePixelPng } from '../support/images.js';
import { codeIn, linkIn, startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let mailbox: Mailbox;
let tarn: RunningTarn;
beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url });
});
afterAll(async () => {
  await tarn?.close();
  await mailbox?.close();
});

const invitationTemplate = {
  subject: 'Welcome to {{poolName}}, {{email}}',
  html: '<p class="own">Ahoy {{email}}! Your harbour pass: <a href="{{link}}">activate</a> or code {{code}}.</p>',
  text: 'Ahoy {{email}}! Activate: {{link}} (code {{code}}, until {{expires}})',
};

it('an invitation is sent from the pool template, in the pool brand, through the real SMTP server', async () => {
  // A name with HTML in it: escaped wherever the HTML body shows it.
  const pool = await createPool(tarn, { name: 'Harbour <b>Co</b>' });
  await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { primaryColor: '#0b5cad', footer: { en: 'Harbour Co, Pier 4' } } });
  const logo = await tarn.admin('PUT', `/pools/${pool.id}/branding/logo`, { mediaType: 'image/png', data: onePixelPng([11, 92, 173]).toString('base64') });
  const saved = await tarn.admin('PUT', `/pools/${pool.id}/mail-templates/invitation/en`, invitationTemplate);
  expect(saved.status).toBe(200);
  expect(saved.body.placeholders).toEqual(['poolName', 'email', 'link', 'code', 'expires']);

  const email = `${uniqueId('sailor')}@example.test`;
  const invited = await tarn.admin('POST', `/pools/${pool.id}/users`, { email, mode: 'invite' });
  expect(invited.status).toBe(201);
  const mail = await mailbox.next(invited.body.email);
  expect(mail.subject).toBe(`Welcome to Harbour <b>Co</b>, ${invited.body.email}`);
  expect(mail.text).toContain(`Ahoy ${invited.body.email}! Activate: ${tarn.url}/pools/${pool.id}/activate?token=`);
  expect(mail.html).toContain(`<p class="own">Ahoy ${email}! Your harbour pass: <a href="${tarn.url}/pools/${pool.id}/activate?token=`);
  expect(mail.html).toContain('Harbour &lt;b&gt;Co&lt;/b&gt;');
  expect(mail.html).not.toContain('<b>Co</b>');
  // The brand: logo (absolute URL), colour, footer.
  expect(mail.html).toContain(`src="${logo.body.logo.url}"`);
  expect(mail.html).toContain('border-top:4px solid #0b5cad');
  expect(mail.html).toContain('Harbour Co, Pier 4');
  // The link and code work as in Tarn's own mail.
  const code = codeIn(mail);
  expect(code).toMatch(/^\d{6}$/);
  expect(linkIn(mail)).toContain('/activate?token=');

  // Deleted: Tarn's own invitation again.
  expect((await tarn.admin('DELETE', `/pools/${pool.id}/mail-templates/invitation/en`)).status).toBe(204);
  const other = await tarn.admin('POST', `/pools/${pool.id}/users`, { email: `${uniqueId('deck')}@example.test`, mode: 'invite' });
  expect((await mailbox.next(other.body.email)).subject).toBe('You are invited to Harbour <b>Co</b>');
});

it('a template is logic-less: ejs or script syntax is sent as text, and an unknown placeholder is refused naming the field', async () => {
  const pool = await createPool(tarn);
  const refused = await tarn.admin('PUT', `/pools/${pool.id}/mail-templates/verification/en`, {
    subject: 'Code {{code}}',
    html: '<p>{{code}} {{password}}</p>',
    text: '{{code}}',
  });
  expect(refused.status).toBe(400);
  expect(refused.body.errors[0].field).toBe('html');
  expect(refused.body.errors[0].detail).toContain('{{password}}');

  const ejsLike = '<p><%= process.env.TARN_MASTER_KEY %><%- global.process.exit(1) %> {{code}}</p>';
  const preview = await tarn.admin('POST', `/pools/${pool.id}/mail-templates/verification/preview`, {
    subject: 'Code {{code}}',
    html: ejsLike,
    text: 'Code {{code}}',
  });
  expect(preview.status).toBe(200);
  expect(preview.body.source).toBe('draft');
  expect(preview.body.subject).toBe('Code 123456');
  // Shown as written: nothing evaluated (the server is still answering, and no key appears).
  expect(preview.body.html).toContain('<%= process.env.TARN_MASTER_KEY %>');
  expect(preview.body.html).not.toContain(tarn.config.masterKey.toString('hex'));
  expect((await tarn.admin('GET', `/pools/${pool.id}`)).status).toBe(200);
});

it('the preview renders the saved template, else Tarn’s own, in the pool brand; another pool sees none of them', async () => {
  const pool = await createPool(tarn, { name: 'Preview Co' });
  await tarn.admin('PATCH', `/pools/${pool.id}`, { branding: { primaryColor: '#7a1f5c' } });
  const builtIn = await tarn.admin('POST', `/pools/${pool.id}/mail-templates/sign-in-code/preview`, {});
  expect(builtIn.body).toMatchObject({ source: 'built-in', subject: '123456 is your Preview Co sign-in code' });
  expect(builtIn.body.html).toContain('#7a1f5c');

  await tarn.admin('PUT', `/pools/${pool.id}/mail-templates/sign-in-code/de`, {
    subject: 'Ihr Code: {{code}}',
    html: '<p>Code {{code}}, {{minutes}} Minuten</p>',
    text: 'Code {{code}}',
  });
  const german = await tarn.admin('POST', `/pools/${pool.id}/mail-templates/sign-in-code/preview`, { language: 'de-AT' });
  expect(german.body).toMatchObject({ source: 'pool', subject: 'Ihr Code: 123456', text: 'Code 123456' });
  expect(german.body.html).toContain('<p>Code 123456, 10 Minuten</p>');
  expect((await tarn.admin('GET', `/pools/${pool.id}/mail-templates`)).body.items.map((item: { language: string }) => item.language)).toEqual(['de']);

  const other = await createPool(tarn);
  expect((await tarn.admin('GET', `/pools/${other.id}/mail-templates/sign-in-code/de`)).status).toBe(404);
  expect((await tarn.admin('GET', `/pools/${other.id}/mail-templates`)).body.items).toEqual([]);
  expect((await tarn.admin('POST', `/pools/${other.id}/mail-templates/sign-in-code/preview`, { language: 'de' })).body.source).toBe('built-in');
});

it('the preview writes {{expires}} as a date in the mail’s language, as the invitation itself does, never a GMT string', async () => {
  const pool = await createPool(tarn);
  const preview = await tarn.admin('POST', `/pools/${pool.id}/mail-templates/invitation/preview`, {
    language: 'ja',
    subject: '招待',
    html: '<p>{{expires}}</p>',
    text: '期限 {{expires}}',
  });
  expect(preview.status).toBe(200);
  const expires = (preview.body.text as string).replace('期限 ', '');
  expect(expires).not.toContain('GMT');
  expect(expires).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日.* UTC$/);
  expect(preview.body.html).toContain(`<p>${expires}</p>`);
});
