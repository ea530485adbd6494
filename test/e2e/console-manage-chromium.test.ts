/**
 * The console's management pages in Chromium: a user's profile and metadata edited through forms
 * generated from the pool's schemas (each problem next to its input), pool settings with schema
 * editing, a group's members and its move, and the administrators' roles (edited, disabled,
 * removed: the console session ends). Viewers change nothing, a pool admin reaches no other
 * pool, and every form wants its CSRF token. axe-core checks every page opened.
 */
import type { Browser as Chromium, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { accessible, signInToConsole as signInAt } from '../support/console.js';
import { uniqueId } from '../support/fixtures.js';
import { startMailbox, type Mailbox } from '../support/smtp.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
let mailbox: Mailbox;
let chromium: Chromium;
let pool: string;
let otherPool: string;
let carolId: string;
const owner = { email: 'owen@example.test', password: 'correct horse battery 5' };
const poolAdmin = { email: 'paula@example.test', password: 'silver tree lantern 6' };
const viewer = { email: 'vera@example.test', password: 'quiet river stone 7' };
let poolAdminId: string;

beforeAll(async () => {
  mailbox = await startMailbox();
  tarn = await startTarn({ SMTP_URL: mailbox.url });
  chromium = await launchChromium();
  await tarn.tarn.console.ensureAdminPool();
  pool = uniqueId('north');
  otherPool = uniqueId('south');
  expect((await tarn.admin('POST', '/pools', { id: pool, name: 'North' })).status).toBe(201);
  expect((await tarn.admin('POST', '/pools', { id: otherPool, name: 'South' })).status).toBe(201);
  const administrators = '/pools/tarn-admin/administrators';
  expect((await tarn.admin('POST', administrators, { mode: 'password', ...owner, roles: [{ role: 'owner' }] })).status).toBe(201);
  const created = await tarn.admin('POST', administrators, { mode: 'password', ...poolAdmin, roles: [{ role: 'admin', pool }] });
  expect(created.status).toBe(201);
  poolAdminId = created.body.id;
  expect((await tarn.admin('POST', administrators, { mode: 'password', ...viewer, roles: [{ role: 'viewer', pool }] })).status).toBe(201);
  const carol = await tarn.admin('POST', `/pools/${pool}/users`, { mode: 'password', email: 'carol@example.test', password: 'blue kite morning 4' });
  carolId = carol.body.id;
});
afterAll(async () => {
  await chromium?.close();
  await tarn?.close();
  await mailbox?.close();
});

const signInToConsole = (context: BrowserContext, who: { email: string; password: string }) => signInAt(tarn.url, context, who);

/** Clicks what submits a form and waits for the page that answers. */
async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

/** The problem shown next to an input, through the input's own aria-describedby. */
async function problemNextTo(page: Page, selector: string): Promise<string> {
  const input = page.locator(selector);
  expect(await input.getAttribute('aria-invalid')).toBe('true');
  const ids = (await input.getAttribute('aria-describedby'))!.split(' ').filter((id) => id.endsWith('-error'));
  expect(ids).toHaveLength(1);
  return (await page.locator(`#${ids[0]}`).textContent())!.trim();
}

const profileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['department'],
  properties: {
    name: { type: 'string', title: 'Full name', maxLength: 100 },
    department: { type: 'string', enum: ['sales', 'support'] },
    employee_no: { type: 'integer', minimum: 1 },
    newsletter: { type: 'boolean' },
    address: { type: 'object', additionalProperties: false, properties: { locality: { type: 'string', title: 'City' } } },
  },
};
const metadataSchema = { type: 'object', properties: { plan: { type: 'string', enum: ['free', 'pro'] }, seats: { type: 'integer' } } };

it("pool settings take the user schemas, and a user's profile and metadata are edited through forms made from them", async () => {
  const context = await chromium.newContext();
  const page = await signInToConsole(context, owner);
  await page.goto(`${tarn.url}/console/pools/${pool}`);

  // Mistakes are shown next to their fields.
  await page.fill('#set-profile-schema', '{"type": "object", ');
  await submit(page, 'text=Save settings');
  expect(await problemNextTo(page, '#set-profile-schema')).toContain('Must be JSON');
  expect(await page.locator('#set-profile-schema').inputValue()).toBe('{"type": "object", ');
  await accessible(page);
  await page.fill('#set-profile-schema', JSON.stringify(profileSchema));
  await page.fill('#set-min-length', '3');
  await submit(page, 'text=Save settings');
  expect(await page.locator('[role=alert]').textContent()).toContain('Minimum password length');
  expect(await problemNextTo(page, '#set-min-length')).toMatch(/8/);
  expect((await tarn.admin('GET', `/pools/${pool}`)).body.profileSchema).toBeNull();
  await accessible(page);

  await page.fill('#set-min-length', '12');
  await page.fill('#set-metadata-schema', JSON.stringify(metadataSchema));
  await page.fill('#set-max-attempts', '7');
  await submit(page, 'text=Save settings');
  expect(await page.locator('[role=status]').textContent()).toContain('Settings saved');
  const saved = (await tarn.admin('GET', `/pools/${pool}`)).body;
  expect(saved).toMatchObject({ profileSchema, metadataSchema, passwordPolicy: { minLength: 12 }, lockout: { maxAttempts: 7 } });

  // Carol's page: one input a schema property, typed by the schema.
  await page.goto(`${tarn.url}/console/pools/${pool}/users/${carolId}`);
  expect(await page.locator('label[for="f-profile-name"]').textContent()).toBe('Full name');
  expect(await page.locator('#f-profile-department option').allTextContents()).toEqual(['(not set)', 'sales', 'support']);
  expect(await page.locator('#f-profile-department').getAttribute('aria-required')).toBe('true');
  expect(await page.locator('#f-profile-newsletter').getAttribute('type')).toBe('checkbox');
  expect(await page.locator('fieldset legend').first().textContent()).toBe('Address');
  await accessible(page);

  // The API's refusals, each next to its input: a required enum left unset, a number that is not one.
  await page.fill('#f-profile-name', 'Carol Jones');
  await page.fill('#f-profile-employee-no', 'forty-two');
  await submit(page, 'text=Save profile');
  expect(await problemNextTo(page, '#f-profile-department')).toBe('Required.');
  expect(await problemNextTo(page, '#f-profile-employee-no')).toMatch(/integer/);
  expect(await page.locator('#f-profile-name').getAttribute('aria-invalid')).toBeNull();
  // What was typed is still there.
  expect(await page.locator('#f-profile-name').inputValue()).toBe('Carol Jones');
  expect((await tarn.admin('GET', `/pools/${pool}/users/${carolId}`)).body.profile).toEqual({});
  await accessible(page);

  await page.selectOption('#f-profile-department', 'support');
  await page.fill('#f-profile-employee-no', '42');
  await page.check('#f-profile-newsletter');
  await page.fill('#f-profile-address-locality', 'Oslo');
  await submit(page, 'text=Save profile');
  expect(await page.locator('[role=status]').textContent()).toContain('Profile saved');
  expect((await tarn.admin('GET', `/pools/${pool}/users/${carolId}`)).body.profile).toEqual({
    name: 'Carol Jones',
    department: 'support',
    employee_no: 42,
    newsletter: true,
    address: { locality: 'Oslo' },
  });
  expect(await page.locator('#f-profile-employee-no').inputValue()).toBe('42');

  // The schema's enum is the select's options: a value outside it cannot be chosen.
  expect(await page.locator('#f-metadata-plan option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value))).not.toContain(
    'gold',
  );
  await page.selectOption('#f-metadata-plan', 'pro');
  await page.fill('#f-metadata-seats', '5');
  await submit(page, 'text=Save metadata');
  expect(await page.locator('[role=status]').textContent()).toContain('Metadata saved');
  expect((await tarn.admin('GET', `/pools/${pool}/users/${carolId}`)).body.metadata).toEqual({ plan: 'pro', seats: 5 });
  await accessible(page);

  // A password reset mail, sent from the console.
  await submit(page, 'text=Send a password reset');
  expect(await page.locator('[role=status]').textContent()).toContain('Password reset mail sent');
  expect((await mailbox.next('carol@example.test')).text).toMatch(/password/i);

  // A user invited from the console gets the invitation.
  await page.goto(`${tarn.url}/console/pools/${pool}/users`);
  await page.fill('#user-email', 'dave@example.test');
  await page.check('input[name=mode][value=invite]');
  // The attribute the schema requires is asked here too.
  await submit(page, 'text=Create user');
  expect(await problemNextTo(page, '#f-profile-department')).toBe('Required.');
  expect(await page.locator('#user-email').inputValue()).toBe('dave@example.test');
  await accessible(page);
  await page.check('input[name=mode][value=invite]');
  await page.selectOption('#f-profile-department', 'sales');
  await submit(page, 'text=Create user');
  expect(await page.locator('[role=status]').textContent()).toContain('Invitation sent to dave@example.test');
  expect((await mailbox.next('dave@example.test')).to).toEqual(['dave@example.test']);
  expect((await tarn.admin('GET', `/pools/${pool}/users?email=dave@example.test`)).body.items[0].profile).toEqual({ department: 'sales' });
  await context.close();
}, 180_000);

it("a group's page adds members found by search, removes them, marks inherited ones, and moves the group", async () => {
  const staff = (await tarn.admin('POST', `/pools/${pool}/groups`, { name: 'Staff' })).body;
  const support = (await tarn.admin('POST', `/pools/${pool}/groups`, { name: 'Support', parentId: staff.id })).body;
  const context = await chromium.newContext();
  const page = await signInToConsole(context, poolAdmin);
  await page.goto(`${tarn.url}/console/pools/${pool}/groups`);
  await submit(page, '#group-tree >> text=Support');
  expect(await page.locator('h1').textContent()).toBe('Support');
  expect(await page.locator('#group-parent-name').textContent()).toBe('Staff');
  await accessible(page);

  await page.fill('#member-q', 'carol');
  await submit(page, 'button:has-text("Find")');
  await submit(page, 'button[aria-label="Add carol@example.test to Support"]');
  expect(await page.locator('[role=status]').textContent()).toContain('Member added');
  expect(await page.locator('#member-list').textContent()).toMatch(/carol@example\.test\s*direct/);
  expect(await page.locator('#candidates').textContent()).toContain('already a member');
  expect((await tarn.admin('GET', `/pools/${pool}/groups/${support.id}/members`)).body.items.map((user: { id: string }) => user.id)).toEqual([carolId]);
  await accessible(page);

  // Staff has her through Support.
  await page.goto(`${tarn.url}/console/pools/${pool}/groups/${staff.id}`);
  expect(await page.locator('#member-list').textContent()).toContain('inherited');
  // Staff cannot move inside its own child: not offered, and refused when forced.
  expect(await page.locator('#move-parent option').allTextContents()).toEqual(['(top level)']);
  const csrf = await page.locator('.signout input[name=csrf]').getAttribute('value');
  const forced = await page.request.post(`${tarn.url}/console/pools/${pool}/groups/${staff.id}`, {
    form: { csrf: csrf!, action: 'move', parentId: support.id },
  });
  expect(forced.status()).toBe(409);
  expect((await tarn.admin('GET', `/pools/${pool}/groups/${staff.id}`)).body.parentId).toBeNull();

  // Support moves to the top level: Staff no longer has Carol.
  await page.goto(`${tarn.url}/console/pools/${pool}/groups/${support.id}`);
  await page.selectOption('#move-parent', '');
  await submit(page, 'text=Move group');
  expect(await page.locator('[role=status]').textContent()).toContain('Group moved');
  expect(await page.locator('#group-parent-name').textContent()).toBe('(top level)');
  expect((await tarn.admin('GET', `/pools/${pool}/groups/${staff.id}/members?nested=true`)).body.items).toEqual([]);

  await submit(page, 'button[aria-label="Remove carol@example.test from Support"]');
  expect(await page.locator('[role=status]').textContent()).toContain('Member removed');
  expect((await tarn.admin('GET', `/pools/${pool}/groups/${support.id}/members`)).body.items).toEqual([]);
  await accessible(page);

  // Another pool's groups and users do not exist for a pool admin.
  const elsewhere = (await tarn.admin('POST', `/pools/${otherPool}/groups`, { name: 'Far' })).body;
  expect((await page.goto(`${tarn.url}/console/pools/${otherPool}/groups/${elsewhere.id}`))?.status()).toBe(404);
  expect(await page.content()).not.toContain('Far');
  const reach = await page.request.post(`${tarn.url}/console/pools/${otherPool}/groups/${elsewhere.id}`, {
    form: { csrf: csrf!, action: 'add', userId: carolId },
  });
  expect(reach.status()).toBe(404);
  const profile = await page.request.post(`${tarn.url}/console/pools/${otherPool}/users/${carolId}/profile`, {
    form: { csrf: csrf!, part: 'profile', 'profile.name': 'X' },
  });
  expect(profile.status()).toBe(404);
  await context.close();
}, 180_000);

it('a viewer sees the new pages read only, and their forms posted anyway are refused; forms without a CSRF token are refused', async () => {
  const context = await chromium.newContext();
  const page = await signInToConsole(context, viewer);
  await page.goto(`${tarn.url}/console/pools/${pool}/users/${carolId}`);
  expect(await page.locator('form.schema-form').count()).toBe(0);
  expect(await page.locator('section[aria-labelledby=profile]').textContent()).toContain('Carol Jones');
  expect(await page.locator('text=Send a password reset').count()).toBe(0);
  await accessible(page);
  const staff = (await tarn.admin('GET', `/pools/${pool}/groups?name=Staff`)).body.items[0];
  await page.goto(`${tarn.url}/console/pools/${pool}/groups/${staff.id}`);
  expect(await page.locator('#move-parent').count()).toBe(0);
  expect(await page.locator('#member-q').count()).toBe(0);
  await accessible(page);
  const csrf = (await page.locator('.signout input[name=csrf]').getAttribute('value'))!;
  expect((await page.goto(`${tarn.url}/console/administrators/${poolAdminId}`))?.status()).toBe(404);

  const attempts: [string, Record<string, string>][] = [
    [`/console/pools/${pool}/users/${carolId}/profile`, { part: 'profile', 'profile.department': 'sales', 'profile.name': 'Hacked' }],
    [`/console/pools/${pool}/users/${carolId}/actions`, { action: 'reset' }],
    [`/console/pools/${pool}/groups/${staff.id}`, { action: 'add', userId: carolId }],
    [`/console/pools/${pool}/settings`, { name: 'Renamed', profileSchema: '' }],
    [`/console/administrators/${poolAdminId}`, { action: 'remove' }],
  ];
  for (const [path, form] of attempts) {
    const withToken = await page.request.post(`${tarn.url}${path}`, { form: { csrf, ...form } });
    expect([403, 404]).toContain(withToken.status());
    const without = await page.request.post(`${tarn.url}${path}`, { form });
    expect(without.status()).toBe(403);
    expect(await without.text()).toContain('Form expired');
  }
  expect((await tarn.admin('GET', `/pools/${pool}/users/${carolId}`)).body.profile.name).toBe('Carol Jones');
  expect((await tarn.admin('GET', `/pools/${pool}/groups/${staff.id}/members`)).body.items).toEqual([]);
  expect((await tarn.admin('GET', `/pools/${pool}`)).body.name).toBe('North');
  expect((await tarn.admin('GET', `/pools/tarn-admin/users/${poolAdminId}`)).status).toBe(200);
  await context.close();
}, 180_000);

it("owners edit an administrator's roles, disable and remove them, and each ends that administrator's console session", async () => {
  const ownerContext = await chromium.newContext();
  const desk = await signInToConsole(ownerContext, owner);
  const paulaContext = await chromium.newContext();
  const paula = await signInToConsole(paulaContext, poolAdmin);
  await paula.goto(`${tarn.url}/console/pools/${pool}`);
  expect(await paula.locator('#set-name').count()).toBe(1);

  await desk.goto(`${tarn.url}/console/administrators`);
  await submit(desk, `#administrators >> text=${poolAdmin.email}`);
  expect(await desk.locator('h1').textContent()).toBe(poolAdmin.email);
  await accessible(desk);
  // Paula becomes viewer of North and admin of South.
  const [north, south] = [desk.locator(`select[name="pool:${pool}"]`), desk.locator(`select[name="pool:${otherPool}"]`)];
  await north.selectOption('viewer');
  await south.selectOption('admin');
  await submit(desk, 'text=Save roles');
  expect(await desk.locator('[role=status]').textContent()).toContain('Roles saved');
  expect(await desk.locator('#administrator-roles').textContent()).toContain(`viewer of ${pool}`);
  await accessible(desk);
  await paula.goto(`${tarn.url}/console/pools/${pool}`);
  expect(await paula.locator('#set-name').count()).toBe(0);
  expect(await paula.locator('.hint').first().textContent()).toContain('viewer');
  expect((await paula.goto(`${tarn.url}/console/pools/${otherPool}`))?.status()).toBe(200);

  // No role at all is refused.
  await north.selectOption('');
  await south.selectOption('');
  await submit(desk, 'text=Save roles');
  expect(await desk.locator('[role=alert]').textContent()).toContain('Choose at least one role');
  await accessible(desk);

  // Disabled: Paula's next request asks her to sign in; enabled, she can again.
  await desk.goto(`${tarn.url}/console/administrators/${poolAdminId}`);
  await submit(desk, 'text=Disable administrator');
  expect(await desk.locator('#administrator-status').textContent()).toBe('disabled');
  await paula.goto(`${tarn.url}/console/pools/${otherPool}`);
  expect(await paula.locator('h1').textContent()).toBe('Sign in');
  await submit(desk, 'text=Enable administrator');
  expect(await desk.locator('#administrator-status').textContent()).toBe('active');
  await paulaContext.close();
  const again = await chromium.newContext();
  const paula2 = await signInToConsole(again, poolAdmin);

  // Removed: gone from the list, and her session ends.
  desk.once('dialog', (dialog) => void dialog.accept());
  await desk.click('text=Remove administrator');
  await desk.waitForURL(`${tarn.url}/console/administrators`);
  expect(await desk.locator('#administrators').textContent()).not.toContain(poolAdmin.email);
  expect((await tarn.admin('GET', `/pools/tarn-admin/users/${poolAdminId}`)).status).toBe(404);
  await paula2.goto(`${tarn.url}/console/pools/${otherPool}`);
  expect(await paula2.locator('h1').textContent()).toBe('Sign in');
  await again.close();

  // The last active owner cannot take away their own ownership, nor be removed.
  const me = (await tarn.admin('GET', '/pools/tarn-admin/administrators')).body.items.find((item: { email: string }) => item.email === owner.email);
  await desk.goto(`${tarn.url}/console/administrators/${me.id}`);
  desk.once('dialog', (dialog) => void dialog.accept());
  await desk.click('text=Remove administrator');
  expect(await desk.locator('[role=alert]').textContent()).toContain('at least one active owner');
  await desk.uncheck('#role-owner');
  await desk.locator(`select[name="pool:${pool}"]`).selectOption('admin');
  await submit(desk, 'text=Save roles');
  expect(await desk.locator('[role=alert]').textContent()).toContain('at least one active owner');
  expect((await tarn.admin('GET', '/pools/tarn-admin/administrators')).body.items.find((item: { id: string }) => item.id === me.id).roles).toEqual([
    { role: 'owner', pool: null },
  ]);
  await accessible(desk);
  await ownerContext.close();
}, 180_000);
