import { createTestDatabase } from '../support/database.js';
it('pglite timings', async () => {
  const t = [performance.now()];
  const a = await createTestDatabase(); t.push(performance.now());
  const b = await createTestDatabase(); t.push(performance.now());
  await a.drop(); await b.drop(); t.push(performance.now());
  console.log('PGLITE', t.slice(1).map((x, i) => Math.round(x - t[i]!)).join(' '));
});
