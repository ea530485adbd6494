/**
 * The provider's artifact storage: pool-scoped (another pool finds nothing), expiring,
 * consumable, revocable by grant; expired rows are purged.
 */
import { sql } from 'kysely';
import { createArtifactQueries, deleteArtifactsOfGrant, purgeExpiredArtifacts } from '../../src/oidc/artifacts.queries.js';
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
  await createArtifactQueries(db, a.id, 'Session').upsertArtifact('s1', { uid: 'u1', accountId: 'x' }, inAnHour());
  expect(await createArtifactQueries(db, a.id, 'Session').findArtifact('s1')).toBeDefined();
  expect(await createArtifactQueries(db, a.id, 'Session').findArtifactByUid('u1')).toBeDefined();
  expect(await createArtifactQueries(db, b.id, 'Session').findArtifact('s1')).toBeUndefined();
  expect(await createArtifactQueries(db, b.id, 'Session').findArtifactByUid('u1')).toBeUndefined();
  expect(await createArtifactQueries(db, a.id, 'Grant').findArtifact('s1')).toBeUndefined();
  // Destroying in another pool removes nothing.
  await createArtifactQueries(db, b.id, 'Session').destroyArtifact('s1');
  expect(await createArtifactQueries(db, a.id, 'Session').findArtifact('s1')).toBeDefined();
});

it('revokes a grant in its own pool only, marks consumption, hides and purges expired rows', async () => {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const db = tarn.database.handle.db;
  const tokensA = createArtifactQueries(db, a.id, 'RefreshToken');
  const tokensB = createArtifactQueries(db, b.id, 'RefreshToken');
  await tokensA.upsertArtifact('rt-a', { grantId: 'g1' }, inAnHour());
  await tokensB.upsertArtifact('rt-b', { grantId: 'g1' }, inAnHour());
  await deleteArtifactsOfGrant(db, b.id, 'g1');
  expect(await tokensA.findArtifact('rt-a')).toBeDefined();
  expect(await tokensB.findArtifact('rt-b')).toBeUndefined();

  await tokensA.consumeArtifact('rt-a');
  expect((await tokensA.findArtifact('rt-a'))?.consumed_at).toBeInstanceOf(Date);

  await tokensA.upsertArtifact('old', { grantId: 'g2' }, new Date(Date.now() - 1000));
  expect(await tokensA.findArtifact('old')).toBeUndefined();
  expect(await purgeExpiredArtifacts(db)).toBeGreaterThanOrEqual(1);
  const left = await sql<{ n: number }>`select count(*)::int as n from oidc_artifacts where pool_id = ${a.id} and id = 'old'`.execute(db);
  expect(left.rows[0]!.n).toBe(0);
  expect(await tokensA.findArtifact('rt-a')).toBeDefined();
});
