/**
 * statement-batcher.ts: one statement in flight; what arrives meanwhile goes out together
 * in the next one, in arrival order; a failed statement fails its own items only.
 */
import { createStatementBatcher } from '../../src/db/statement-batcher.js';

/** A statement runner whose statements finish when the test says so. */
function controlledRunner() {
  const statements: { items: number[]; finish(error?: Error): void }[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      statements.push({ items, finish: (error) => (error ? reject(error) : resolve(items.map((item) => item * 10))) });
    });
  return { statements, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

it('sends one item alone on a quiet server, and gives each caller its own result', async () => {
  const { statements, run } = controlledRunner();
  const batcher = createStatementBatcher<number, number>(run);
  const result = batcher.add(7);
  await turn();
  expect(statements.map((s) => s.items)).toEqual([[7]]);
  statements[0]!.finish();
  await expect(result).resolves.toBe(70);
});

it('holds what arrives while a statement runs and sends it together next, in order', async () => {
  const { statements, run } = controlledRunner();
  const batcher = createStatementBatcher<number, number>(run);
  const first = batcher.add(1);
  await turn();
  const later = [batcher.add(2), batcher.add(3)];
  await turn();
  const last = batcher.add(4);
  await turn();
  expect(statements.map((s) => s.items)).toEqual([[1]]);
  statements[0]!.finish();
  await expect(first).resolves.toBe(10);
  await turn();
  expect(statements.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
  statements[1]!.finish();
  await expect(Promise.all([...later, last])).resolves.toEqual([20, 30, 40]);
});

it('fails the items of a failed statement only, and still sends the next batch', async () => {
  const { statements, run } = controlledRunner();
  const batcher = createStatementBatcher<number, number>(run);
  const doomed = batcher.add(1);
  await turn();
  const next = batcher.add(2);
  statements[0]!.finish(new Error('connection lost'));
  await expect(doomed).rejects.toThrow('connection lost');
  await turn();
  expect(statements.map((s) => s.items)).toEqual([[1], [2]]);
  statements[1]!.finish();
  await expect(next).resolves.toBe(20);
});

it('splits a burst larger than the batch size over several statements', async () => {
  const { statements, run } = controlledRunner();
  const batcher = createStatementBatcher<number, number>(run, { maxBatch: 3 });
  const results = [1, 2, 3, 4, 5, 6, 7].map((item) => batcher.add(item));
  await turn();
  for (let n = 0; n < 3; n += 1) {
    statements[n]!.finish();
    await turn();
    await turn();
  }
  expect(statements.map((s) => s.items)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  await expect(Promise.all(results)).resolves.toEqual([10, 20, 30, 40, 50, 60, 70]);
});
