/**
 * The provider's artifact storage: pool-scoped (another pool finds nothing), expiring,
 * consumable, revocable by grant; expired rows are purged.
 */
import { sql } from 'kysely';
import { createArtifactQueries, deleteArtifactsOfGrant, findArtifactById, purgeExpiredArtifacts, upsertArtifacts } from '../../src/oidc/artifacts.queries.js';
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

it('finds an artifact only in its own pool', async () => {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const db = tarn.database.handle.db;
  await upsertArtifacts(db, a.id, [{ model: 'Session', id: 's1', payload: { uid: 'u1', accountId: 'x' }, expiresAt: inAnHour(), uid: 'u1', userCode: null }]);
  expect(await findArtifactById(db, a.id, 'Session', 's1')).toBeDefined();
  expect(await createArtifactQueries(db, a.id, 'Session').findArtifactByUid('u1')).toBeDefined();
  expect(await findArtifactById(db, b.id, 'Session', 's1')).toBeUndefined();
  expect(await createArtifactQueries(db, b.id, 'Session').findArtifactByUid('u1')).toBeUndefined();
  expect(await findArtifactById(db, a.id, 'Grant', 's1')).toBeUndefined();
  // Destroying in another pool removes nothing.
  await createArtifactQueries(db, b.id, 'Session').destroyArtifact('s1');
  expect(await findArtifactById(db, a.id, 'Session', 's1')).toBeDefined();
});

it('revokes a grant in its own pool only, marks consumption, hides and purges expired rows', async () => {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const db = tarn.database.handle.db;
  const tokensA = createArtifactQueries(db, a.id, 'RefreshToken');
  await upsertArtifacts(db, a.id, [{ model: 'RefreshToken', id: 'rt-a', payload: { grantId: 'g1' }, expiresAt: inAnHour(), uid: null, userCode: null }]);
  await upsertArtifacts(db, b.id, [{ model: 'RefreshToken', id: 'rt-b', payload: { grantId: 'g1' }, expiresAt: inAnHour(), uid: null, userCode: null }]);
  await deleteArtifactsOfGrant(db, b.id, 'g1');
  expect(await findArtifactById(db, a.id, 'RefreshToken', 'rt-a')).toBeDefined();
  expect(await findArtifactById(db, b.id, 'RefreshToken', 'rt-b')).toBeUndefined();

  await tokensA.consumeArtifact('rt-a');
  expect((await findArtifactById(db, a.id, 'RefreshToken', 'rt-a'))?.consumed_at).toBeInstanceOf(Date);

  await upsertArtifacts(db, a.id, [
    { model: 'RefreshToken', id: 'old', payload: { grantId: 'g2' }, expiresAt: new Date(Date.now() - 1000), uid: null, userCode: null },
  ]);
  expect(await findArtifactById(db, a.id, 'RefreshToken', 'old')).toBeUndefined();
  expect(await purgeExpiredArtifacts(db)).toBeGreaterThanOrEqual(1);
  const left = await sql<{ n: number }>`select count(*)::int as n from oidc_artifacts where pool_id = ${a.id} and id = 'old'`.execute(db);
  expect(left.rows[0]!.n).toBe(0);
  expect(await findArtifactById(db, a.id, 'RefreshToken', 'rt-a')).toBeDefined();
});
