/**
 * Coalesced artifact lookups and writes (artifact-finder.ts, artifact-writer.ts): lookups made together are
 * answered together, each from its own pool only, live rows only, each caller with its own
 * copy of the payload.
 */
import { createArtifactFinder } from '../../src/oidc/artifact-finder.js';
import { createArtifactWriter } from '../../src/oidc/artifact-writer.js';
import { createArtifactQueries, findArtifactById, upsertArtifacts } from '../../src/oidc/artifacts.queries.js';
import { createPool } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn.close();
});

const inAnHour = () => new Date(Date.now() + 3600_000);

it('answers lookups made together, each from its own pool and model only', async () => {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const db = tarn.database.handle.db;
  await upsertArtifacts(db, a.id, [
    { model: 'AccessToken', id: 't1', payload: { kind: 'AccessToken', jti: 't1' }, expiresAt: inAnHour(), uid: null, userCode: null },
  ]);
  await upsertArtifacts(db, a.id, [{ model: 'Session', id: 's1', payload: { kind: 'Session', uid: 'u1' }, expiresAt: inAnHour(), uid: 'u1', userCode: null }]);
  await upsertArtifacts(db, b.id, [
    { model: 'AccessToken', id: 't2', payload: { kind: 'AccessToken', jti: 't2' }, expiresAt: inAnHour(), uid: null, userCode: null },
  ]);
  await upsertArtifacts(db, a.id, [
    { model: 'AccessToken', id: 'gone', payload: { kind: 'AccessToken' }, expiresAt: new Date(Date.now() - 1000), uid: null, userCode: null },
  ]);

  const findInA = createArtifactFinder(db, a.id);
  const [token, asRefresh, session, otherPools, expired, unknown] = await Promise.all([
    findInA('AccessToken', 't1'),
    findInA('RefreshToken', 't1'),
    findInA('Session', 's1'),
    findInA('AccessToken', 't2'),
    findInA('AccessToken', 'gone'),
    findInA('AccessToken', 'nope'),
  ]);
  expect(token?.payload).toEqual({ kind: 'AccessToken', jti: 't1' });
  expect(session?.payload).toEqual({ kind: 'Session', uid: 'u1' });
  expect(asRefresh).toBeUndefined();
  expect(otherPools).toBeUndefined();
  expect(expired).toBeUndefined();
  expect(unknown).toBeUndefined();
  expect(await createArtifactFinder(db, b.id)('AccessToken', 't2')).toBeDefined();
});

it('gives each caller its own payload, even for the same artifact', async () => {
  const a = await createPool(tarn);
  const db = tarn.database.handle.db;
  await upsertArtifacts(db, a.id, [
    { model: 'Grant', id: 'g1', payload: { kind: 'Grant', openid: { scope: 'openid' } }, expiresAt: inAnHour(), uid: null, userCode: null },
  ]);
  const find = createArtifactFinder(db, a.id);
  const [first, second] = await Promise.all([find('Grant', 'g1'), find('Grant', 'g1')]);
  (first!.payload as { openid: { scope: string } }).openid.scope = 'changed';
  expect(second!.payload).toEqual({ kind: 'Grant', openid: { scope: 'openid' } });
});

it('stores writes made together in their own pool, the later of two writes of one artifact winning', async () => {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const db = tarn.database.handle.db;
  const write = createArtifactWriter(db, a.id);
  await Promise.all([
    write({ model: 'Session', id: 's1', payload: { uid: 'u1', n: 1 }, expiresAt: inAnHour(), uid: 'u1', userCode: null }),
    write({ model: 'Session', id: 's1', payload: { uid: 'u1', n: 2 }, expiresAt: inAnHour(), uid: 'u1', userCode: null }),
    write({ model: 'Grant', id: 'g1', payload: { grantId: 'g1' }, expiresAt: null, uid: null, userCode: null }),
  ]);
  expect((await findArtifactById(db, a.id, 'Session', 's1'))?.payload).toEqual({ uid: 'u1', n: 2 });
  expect(await createArtifactQueries(db, a.id, 'Session').findArtifactByUid('u1')).toBeDefined();
  expect(await findArtifactById(db, a.id, 'Grant', 'g1')).toBeDefined();
  expect(await findArtifactById(db, b.id, 'Session', 's1')).toBeUndefined();
});

it('a write PostgreSQL refuses (a NUL in its payload) fails alone; the writes batched with it are stored', async () => {
  const a = await createPool(tarn);
  const db = tarn.database.handle.db;
  const write = createArtifactWriter(db, a.id);
  const written = (id: string, payload: Record<string, unknown>) =>
    write({ model: 'Interaction', id, payload, expiresAt: inAnHour(), uid: null, userCode: null });
  const results = await Promise.allSettled([
    written('i1', { params: { state: 'one' } }),
    written('poisoned', { params: { state: 'bad\u0000state' } }),
    written('i2', { params: { state: 'two' } }),
  ]);
  expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: expect.stringMatching(/^22/) });
  const find = createArtifactFinder(db, a.id);
  expect((await find('Interaction', 'i1'))?.payload).toEqual({ params: { state: 'one' } });
  expect((await find('Interaction', 'i2'))?.payload).toEqual({ params: { state: 'two' } });
  expect(await find('Interaction', 'poisoned')).toBeUndefined();
});
