/**
 * Pool isolation of the users' query modules (Ory Kratos' "fails on a different
 * tenant"): a code, lockout, mail request or artifact of pool A is not found, counted, changed
 * or deleted through pool B's queries — and PostgreSQL itself refuses a cross-pool link.
 */
import { createAccountArtifactQueries } from '../../src/users/account-artifacts.queries.js';
import { createCodeQueries, purgeExpiredCodes } from '../../src/users/codes.queries.js';
import { createLockoutQueries } from '../../src/users/lockout.queries.js';
import { createMailRequestQueries } from '../../src/users/mail-requests.queries.js';
import { createUserFinder, createUserQueries } from '../../src/users/users.queries.js';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

const db = () => tarn.database.handle.db;
const now = new Date();
const later = new Date(now.getTime() + 60 * 60 * 1000);

async function twoPools() {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const userA = await createUser(tarn, a.id, { email: 'same@example.test' });
  const userB = await createUser(tarn, b.id, { email: 'same@example.test' });
  return { a: a.id, b: b.id, userA: userA.id, userB: userB.id };
}

it('one-time codes of pool A are invisible and untouchable at pool B', async () => {
  const { a, b, userA } = await twoPools();
  const codesA = createCodeQueries(db(), a);
  const codesB = createCodeQueries(db(), b);
  await codesA.insertCode({
    id: 'otc_1',
    purpose: 'sign_in',
    userId: userA,
    email: 'same@example.test',
    codeHash: 'h',
    tokenHash: 't',
    payload: {},
    binding: null,
    createdAt: now,
    expiresAt: later,
  });

  expect(await codesB.findCodeByToken('t')).toBeUndefined();
  expect(await codesB.findLatestCode('sign_in', 'same@example.test', null)).toBeUndefined();
  expect(await codesB.consumeCode('otc_1', now)).toBe(false);
  await codesB.countAttempt('otc_1');
  await codesB.deleteCodesFor('sign_in', 'same@example.test', null);
  await codesB.deleteCodesOfUser(userA, 'sign_in');

  // Another binding neither sees nor deletes it.
  expect(await codesA.findLatestCode('sign_in', 'same@example.test', 'other-binding')).toBeUndefined();
  await codesA.deleteCodesFor('sign_in', 'same@example.test', 'other-binding');
  const row = await codesA.findLatestCode('sign_in', 'SAME@example.test', null);
  expect(row).toMatchObject({ id: 'otc_1', attempts: 0, consumed_at: null });
  expect(await codesA.countAttempt('otc_1')).toBe(1);
  expect(await codesA.consumeCode('otc_1', now)).toBe(true);
  expect(await codesA.consumeCode('otc_1', now)).toBe(false);
});

it('a code of pool B cannot point at a user of pool A (composite foreign key)', async () => {
  const { b, userA } = await twoPools();
  await expect(
    createCodeQueries(db(), b).insertCode({
      id: 'otc_x',
      purpose: 'invitation',
      userId: userA,
      email: 'same@example.test',
      codeHash: 'h',
      tokenHash: null,
      payload: {},
      binding: null,
      createdAt: now,
      expiresAt: later,
    }),
  ).rejects.toThrow();
});

it('counts a failure without locking, and refuses the one that would lock', async () => {
  const { a, userA } = await twoPools();
  const lockA = createLockoutQueries(db(), a);
  const first = await lockA.countUserFailureUnlessLocking(userA, now, 60_000, 3);
  expect(first).toMatchObject({ failures: 1, locked_until: null });
  expect(await lockA.countUserFailureUnlessLocking(userA, now, 60_000, 3)).toMatchObject({ failures: 2, locked_until: null });
  // The third would lock: nothing changes.
  expect(await lockA.countUserFailureUnlessLocking(userA, now, 60_000, 3)).toBeUndefined();
  expect(await lockA.findLockout(userA)).toMatchObject({ failures: 2, locked_until: null });
  // Counted in full, it locks; a later failure past the limit is counted again (it extends the lock).
  expect((await lockA.countUserFailure(userA, now, 60_000, 3)).locked_until).not.toBeNull();
  expect(await lockA.countUserFailureUnlessLocking(userA, now, 60_000, 3)).toMatchObject({ failures: 4 });
  // After the window a failure starts a new count, which does not lock.
  const later = new Date(now.getTime() + 120_000);
  expect(await lockA.countUserFailureUnlessLocking(userA, later, 60_000, 3)).toMatchObject({ failures: 1 });
});

it('lockouts and mail requests are counted per pool', async () => {
  const { a, b, userA, userB } = await twoPools();
  const lockA = createLockoutQueries(db(), a);
  const lockB = createLockoutQueries(db(), b);
  await lockA.countUserFailure(userA, now, 60_000, 2);
  const second = await lockA.countUserFailure(userA, now, 60_000, 2);
  expect(second.failures).toBe(2);
  expect(second.locked_until).not.toBeNull();

  expect(await lockB.findLockout(userA)).toBeUndefined();
  expect(await lockB.clearLockout(userA)).toBe(false);
  expect(await lockB.findLockout(userB)).toBeUndefined();
  await expect(lockB.countUserFailure(userA, now, 60_000, 2)).rejects.toThrow(); // user of A via pool B: foreign key
  expect((await lockA.findLockout(userA))?.failures).toBe(2);

  // The one-query view a sign-in attempt is judged by: pool A's counter and user, never at B.
  const stateA = await lockA.findSignInState('SAME@example.test');
  expect(stateA).toMatchObject({ user: { id: userA }, lockout: { failures: 2 } });
  const stateB = await lockB.findSignInState('same@example.test');
  expect(stateB.user?.id).toBe(userB);
  expect(stateB.lockout).toBeUndefined();
  expect(await lockA.findSignInState('nobody@example.test')).toEqual({ user: undefined, lockout: undefined });

  const mailA = createMailRequestQueries(db(), a);
  const mailB = createMailRequestQueries(db(), b);
  await mailA.insertMailRequest('same@example.test', '192.0.2.1', now);
  await mailA.insertMailRequest('other@example.test', '192.0.2.1', now);
  const since = new Date(now.getTime() - 60_000);
  expect(await mailA.countMailRequests('same@example.test', '192.0.2.1', since)).toEqual({ address: 1, lastForAddress: now, ip: 2 });
  expect(await mailB.countMailRequests('same@example.test', '192.0.2.1', since)).toEqual({ address: 0, lastForAddress: undefined, ip: 0 });
  // Requests before `since` no longer count.
  expect(await mailA.countMailRequests('same@example.test', '192.0.2.1', now)).toEqual({ address: 0, lastForAddress: undefined, ip: 0 });
});

it("revoking an account's artifacts at pool B leaves pool A's sessions alone", async () => {
  const { a, b, userA } = await twoPools();
  await db()
    .insertInto('oidc_artifacts')
    .values({
      pool_id: a,
      model: 'Session',
      id: 'sess-1',
      payload: JSON.stringify({ accountId: userA }),
      grant_id: null,
      user_code: null,
      uid: 'u1',
      expires_at: later,
    })
    .execute();
  expect(await createAccountArtifactQueries(db(), b).deleteArtifactsOfAccount(userA)).toBe(0);
  expect(await createAccountArtifactQueries(db(), a).deleteArtifactsOfAccount(userA)).toBe(1);
});

it('the email prefix search stays in its pool', async () => {
  const { a, b, userA } = await twoPools();
  const found = await createUserQueries(db(), a).listUsers({ emailPrefix: 'same' }, 10, undefined);
  expect(found.map((user) => user.id)).toEqual([userA]);
  const atB = await createUserQueries(db(), b).listUsers({ emailPrefix: 'same' }, 10, undefined);
  expect(atB.map((user) => user.id)).not.toContain(userA);
});

it('the purge removes expired codes only', async () => {
  const { a } = await twoPools();
  const codes = createCodeQueries(db(), a);
  const past = new Date(Date.now() - 60_000);
  await codes.insertCode({
    id: 'otc_old',
    purpose: 'registration',
    userId: null,
    email: 'old@example.test',
    codeHash: 'h',
    tokenHash: null,
    payload: {},
    binding: null,
    createdAt: past,
    expiresAt: past,
  });
  await codes.insertCode({
    id: 'otc_new',
    purpose: 'registration',
    userId: null,
    email: 'new@example.test',
    codeHash: 'h',
    tokenHash: null,
    payload: {},
    binding: null,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 60 * 60 * 1000),
  });
  expect(await purgeExpiredCodes(db())).toBeGreaterThanOrEqual(1);
  const left = await db().selectFrom('one_time_codes').select('id').where('pool_id', '=', a).orderBy('id').execute();
  expect(left.map((row) => row.id)).toEqual(['otc_new']);
});

it('the batched user finder answers each lookup of a turn with its own user of its own pool', async () => {
  const { a, b, userA, userB } = await twoPools();
  const other = await createUser(tarn, a, { email: 'other@example.test' });
  const findA = createUserFinder(db(), a);
  const missing = '00000000-0000-4000-8000-000000000000';
  // Started in one turn: they go out together, and every caller still gets its own answer.
  const [first, again, second, foreign, none] = await Promise.all([findA(userA), findA(userA), findA(other.id), findA(userB), findA(missing)]);
  expect(first).toMatchObject({ id: userA, pool_id: a, email: 'same@example.test' });
  expect(second).toMatchObject({ id: other.id, pool_id: a, email: 'other@example.test' });
  expect(again).toEqual(first);
  expect(again).not.toBe(first);
  expect(foreign).toBeUndefined();
  expect(none).toBeUndefined();
  // Alone, the same answers.
  expect(await findA(other.id)).toMatchObject({ id: other.id, email: 'other@example.test' });
  expect(await createUserFinder(db(), b)(userB)).toMatchObject({ id: userB, pool_id: b });
  expect(await createUserFinder(db(), b)(userA)).toBeUndefined();
});
