/**
 * WebAuthn ceremonies at the service, with a software authenticator so that @simplewebauthn's
 * real verification runs on answers a browser would never send: a replayed challenge, another
 * origin (a phishing site relaying a genuine signature), a deleted or foreign credential,
 * a signature counter that went back, a backup-eligibility flag that changed, an expired challenge.
 * Also: the query module finds nothing of another pool (cross-pool test).
 */
import { randomBytes } from 'node:crypto';
import { createPoolQueries } from '../../src/pools/pools.queries.js';
import { createPasskeyQueries } from '../../src/passkeys/passkeys.queries.js';
import { CHALLENGE_TTL_MS, createPasskeyService, PasskeyRefused, type PasskeyService, type RefusalReason } from '../../src/passkeys/passkeys.service.js';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';
import { SoftAuthenticator } from './soft-authenticator.js';

let tarn: RunningTarn;
let now = Date.now();
let passkeys: PasskeyService;
beforeAll(async () => {
  tarn = await startTarn();
  passkeys = createPasskeyService({
    db: tarn.database.handle.db,
    users: tarn.tarn.services.users,
    // The relying party as deployed: https, a real host name.
    publicUrl: 'https://id.example.test/',
    secret: randomBytes(32),
    clock: () => now,
  });
});
afterAll(async () => {
  await tarn.close();
});

const ORIGIN = 'https://id.example.test';
const RP_ID = 'id.example.test';
const binding = { interactionUid: 'interaction-1' };

async function poolWithUser(signIn = { password: true, emailCode: false, passkey: true }) {
  const created = await createPool(tarn, { signIn });
  const pool = (await createPoolQueries(tarn.database.handle.db).findPool(created.id))!;
  const user = await tarn.tarn.services.users.getUserRow(pool.id, (await createUser(tarn, pool.id)).id);
  return { pool, user };
}

async function enrolled(options: ConstructorParameters<typeof SoftAuthenticator>[2] = {}) {
  const { pool, user } = await poolWithUser();
  const authenticator = new SoftAuthenticator(RP_ID, ORIGIN, options);
  const creation = await passkeys.startRegistration(pool, user, binding);
  const passkey = await passkeys.finishRegistration(pool, user.id, authenticator.create(creation), binding, 'Soft key');
  return { pool, user, authenticator, passkey };
}

async function refusal(promise: Promise<unknown>): Promise<RefusalReason> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PasskeyRefused)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.reason;
}

it('registers a passkey and signs in with it, discoverable or by email; the counter and flags are kept', async () => {
  const { pool, user, authenticator, passkey } = await enrolled({ backupEligible: true, backedUp: false });
  expect(passkey).toMatchObject({ user_id: user.id, name: 'Soft key', backup_eligible: true, backed_up: false });
  expect(Number(passkey.counter)).toBe(0);

  const discoverable = await passkeys.startAuthentication(pool, undefined, binding);
  expect(discoverable.rpId).toBe(RP_ID);
  expect(discoverable.allowCredentials ?? []).toHaveLength(0);
  expect((await passkeys.finishAuthentication(pool, authenticator.get(discoverable, { userHandle: user.id }), binding)).id).toBe(user.id);

  const byEmail = await passkeys.startAuthentication(pool, user.email.toUpperCase(), binding);
  expect(byEmail.allowCredentials).toEqual([expect.objectContaining({ id: passkey.credential_id })]);
  authenticator.backedUp = true; // the passkey got synced meanwhile: BS may change
  expect((await passkeys.finishAuthentication(pool, JSON.stringify(authenticator.get(byEmail)), binding)).id).toBe(user.id);

  const stored = (await createPasskeyQueries(tarn.database.handle.db, pool.id).findPasskey(passkey.id))!;
  expect(Number(stored.counter)).toBe(2);
  expect(stored.backed_up).toBe(true);
  expect(stored.last_used_at).not.toBeNull();
});

it('refuses a replayed answer: each challenge is used once', async () => {
  const { pool, authenticator } = await enrolled();
  const options = await passkeys.startAuthentication(pool, undefined, binding);
  const answer = authenticator.get(options);
  await passkeys.finishAuthentication(pool, answer, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, answer, binding))).toBe('challenge');
});

it('refuses a genuine signature made for another origin (a phishing page relaying the ceremony)', async () => {
  const { pool, authenticator } = await enrolled();
  const options = await passkeys.startAuthentication(pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options, { origin: 'https://id.example.test.evil.example' }), binding))).toBe(
    'verification',
  );
  // Registration too.
  const { pool: other, user } = await poolWithUser();
  const creation = await passkeys.startRegistration(other, user, binding);
  expect(await refusal(passkeys.finishRegistration(other, user.id, new SoftAuthenticator(RP_ID, 'http://localhost:3000').create(creation), binding))).toBe(
    'verification',
  );
});

it('refuses an answer for another relying-party id', async () => {
  const { pool, user } = await poolWithUser();
  const creation = await passkeys.startRegistration(pool, user, binding);
  expect(await refusal(passkeys.finishRegistration(pool, user.id, new SoftAuthenticator('example.test', ORIGIN).create(creation), binding))).toBe(
    'verification',
  );
});

it('refuses a deleted passkey', async () => {
  const { pool, user, authenticator, passkey } = await enrolled();
  await tarn.admin('DELETE', `/pools/${pool.id}/users/${user.id}/passkeys/${passkey.id}`);
  const options = await passkeys.startAuthentication(pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options), binding))).toBe('unknown-credential');
});

it('refuses a signature counter that did not grow (a cloned authenticator)', async () => {
  const { pool, authenticator } = await enrolled();
  await passkeys.finishAuthentication(pool, authenticator.get(await passkeys.startAuthentication(pool, undefined, binding)), binding);
  await passkeys.finishAuthentication(pool, authenticator.get(await passkeys.startAuthentication(pool, undefined, binding)), binding);
  const options = await passkeys.startAuthentication(pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options, { counter: 1 }), binding))).toBe('counter');
});

it('refuses a credential whose backup eligibility changed (WebAuthn §6.1.3)', async () => {
  const { pool, authenticator } = await enrolled({ backupEligible: false });
  authenticator.backupEligible = true;
  const options = await passkeys.startAuthentication(pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options), binding))).toBe('backup-eligibility');
});

it("refuses an expired challenge, a challenge of another interaction or ceremony, and another user's passkey", async () => {
  const { pool, user, authenticator } = await enrolled();
  let options = await passkeys.startAuthentication(pool, undefined, binding);
  now += CHALLENGE_TTL_MS + 1;
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options), binding))).toBe('challenge');

  options = await passkeys.startAuthentication(pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options), { interactionUid: 'another' }))).toBe('challenge');

  const creation = await passkeys.startRegistration(pool, user, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(creation), binding))).toBe('challenge');

  // Asked for someone else's email: this user's passkey does not answer for them.
  const other = await tarn.tarn.services.users.getUserRow(pool.id, (await createUser(tarn, pool.id)).id);
  const otherKey = new SoftAuthenticator(RP_ID, ORIGIN);
  await passkeys.finishRegistration(pool, other.id, otherKey.create(await passkeys.startRegistration(pool, other, binding)), binding);
  options = await passkeys.startAuthentication(pool, other.email, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options), binding))).toBe('wrong-user');
  // Registering for one user with a challenge made for another.
  const forOther = await passkeys.startRegistration(pool, other, binding);
  expect(await refusal(passkeys.finishRegistration(pool, user.id, new SoftAuthenticator(RP_ID, ORIGIN).create(forOther), binding))).toBe('wrong-user');
});

it("refuses a disabled user's passkey, the same credential twice, and malformed answers", async () => {
  const { pool, user, authenticator } = await enrolled();
  const again = await passkeys.startRegistration(pool, user, binding);
  expect(again.excludeCredentials).toHaveLength(1);
  expect(await refusal(passkeys.finishRegistration(pool, user.id, authenticator.create(again), binding))).toBe('already-registered');

  expect(await refusal(passkeys.finishAuthentication(pool, 'not json', binding))).toBe('malformed');
  expect(await refusal(passkeys.finishAuthentication(pool, { id: 'x' }, binding))).toBe('malformed');

  await tarn.admin('PATCH', `/pools/${pool.id}/users/${user.id}`, { status: 'disabled' });
  const options = await passkeys.startAuthentication(pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(pool, authenticator.get(options), binding))).toBe('inactive-user');
});

it('a passkey and a challenge of pool A do not exist in pool B', async () => {
  const a = await enrolled();
  const b = await poolWithUser();
  const db = tarn.database.handle.db;
  const inA = createPasskeyQueries(db, a.pool.id);
  const inB = createPasskeyQueries(db, b.pool.id);
  expect(await inA.findPasskeyByCredentialId(a.passkey.credential_id)).toBeDefined();
  expect(await inB.findPasskeyByCredentialId(a.passkey.credential_id)).toBeUndefined();
  expect(await inB.findPasskey(a.passkey.id)).toBeUndefined();
  expect(await inB.listUserPasskeys(a.user.id)).toEqual([]);
  expect(await inB.listUserPasskeysPage(a.user.id, 10, undefined)).toEqual([]);
  expect(await inB.countUserPasskeys(a.user.id)).toBe(0);
  expect(await inB.renamePasskey(a.user.id, a.passkey.id, 'stolen')).toBeUndefined();
  expect(await inB.deletePasskey(a.user.id, a.passkey.id)).toBe(false);
  expect(await inB.recordPasskeyUse(a.passkey.id, 0, { counter: 99, backed_up: false })).toBe(false);
  expect((await inA.findPasskey(a.passkey.id))!.name).toBe('Soft key');

  // A challenge made in pool A cannot be taken in pool B, nor its answer verified there.
  const options = await passkeys.startAuthentication(a.pool, undefined, binding);
  expect(await inB.takeChallenge(options.challenge, new Date(now))).toBeUndefined();
  expect(await refusal(passkeys.finishAuthentication(b.pool, a.authenticator.get(options), binding))).toBe('challenge');
  expect((await passkeys.finishAuthentication(a.pool, a.authenticator.get(options, { counter: a.authenticator.counter + 1 }), binding)).id).toBe(a.user.id);

  // Pool B's own challenge, pool A's credential: unknown in pool B.
  const atB = await passkeys.startAuthentication(b.pool, undefined, binding);
  expect(await refusal(passkeys.finishAuthentication(b.pool, a.authenticator.get(atB), binding))).toBe('unknown-credential');
});

it("admins list and delete a user's passkeys; another pool's user or passkey is not found", async () => {
  const a = await enrolled();
  const b = await poolWithUser();
  const list = await tarn.admin('GET', `/pools/${a.pool.id}/users/${a.user.id}/passkeys`);
  expect(list.status).toBe(200);
  expect(list.body).toEqual({ items: [expect.objectContaining({ id: a.passkey.id, name: 'Soft key' })], nextCursor: null });
  expect(JSON.stringify(list.body)).not.toContain(a.passkey.public_key);
  expect((await tarn.admin('GET', `/pools/${b.pool.id}/users/${a.user.id}/passkeys`)).status).toBe(404);
  expect((await tarn.admin('DELETE', `/pools/${b.pool.id}/users/${b.user.id}/passkeys/${a.passkey.id}`)).status).toBe(404);
  expect((await tarn.admin('DELETE', `/pools/${a.pool.id}/users/${a.user.id}/passkeys/not-a-uuid`)).status).toBe(404);
  expect((await tarn.admin('DELETE', `/pools/${a.pool.id}/users/${a.user.id}/passkeys/${a.passkey.id}`)).status).toBe(204);
  expect((await tarn.admin('GET', `/pools/${a.pool.id}/users/${a.user.id}/passkeys`)).body.items).toEqual([]);
  // Deleting the user deletes their passkeys.
  const c = await enrolled();
  await tarn.admin('DELETE', `/pools/${c.pool.id}/users/${c.user.id}`);
  expect(await createPasskeyQueries(tarn.database.handle.db, c.pool.id).findPasskey(c.passkey.id)).toBeUndefined();
});

it('the add step is offered to users without a passkey, and after a recovery sign-in to everyone', async () => {
  const { pool, user } = await enrolled();
  expect(await passkeys.shouldOfferEnrolment(pool, user.id)).toBe(false);
  expect(await passkeys.shouldOfferEnrolment(pool, user.id, { evenWithPasskeys: true })).toBe(true);
  const other = await createUser(tarn, pool.id);
  expect(await passkeys.shouldOfferEnrolment(pool, other.id)).toBe(true);
});

it('with passkeys off, the service offers nothing', async () => {
  const { pool, user } = await poolWithUser({ password: true, emailCode: false, passkey: false });
  expect(await passkeys.shouldOfferEnrolment(pool, user.id)).toBe(false);
  expect(await passkeys.shouldOfferEnrolment(pool, user.id, { evenWithPasskeys: true })).toBe(false);
  await expect(passkeys.startAuthentication(pool, undefined, binding)).rejects.toMatchObject({ status: 404 });
  await expect(passkeys.startRegistration(pool, user, binding)).rejects.toMatchObject({ status: 404 });
  await expect(passkeys.listMyPasskeys(pool, user.id)).rejects.toMatchObject({ status: 404 });
});

it('an enrolment grant names its user in its own pool only, until it expires', async () => {
  const a = await poolWithUser();
  const b = await poolWithUser();
  const grant = passkeys.issueEnrolmentGrant(a.pool.id, a.user.id);
  expect(passkeys.readEnrolmentGrant(a.pool.id, grant)).toBe(a.user.id);
  expect(passkeys.readEnrolmentGrant(b.pool.id, grant)).toBeUndefined();
  expect(passkeys.readEnrolmentGrant(a.pool.id, grant.replace(a.user.id, b.user.id))).toBeUndefined();
  expect(passkeys.readEnrolmentGrant(a.pool.id, undefined)).toBeUndefined();
  expect(passkeys.readEnrolmentGrant(a.pool.id, 'a.b.c')).toBeUndefined();
  now += 16 * 60 * 1000;
  expect(passkeys.readEnrolmentGrant(a.pool.id, grant)).toBeUndefined();
});
