import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
const A = new Blob([await readFile(process.argv[2])]);
const x = await PGlite.create('memory://', { loadDataDir: A }); await x.exec('CHECKPOINT'); const B = await x.dumpDataDir('none'); await x.close();
const res = { plain: [], checkpointed: [] };
for (let i = 0; i < 4; i++) for (const [k, blob] of [['plain', A], ['checkpointed', B]]) {
  const t = performance.now(); const p = await PGlite.create('memory://', { loadDataDir: blob }); await p.query('select 1'); res[k].push(Math.round(performance.now() - t)); await p.close();
}
console.log(JSON.stringify(res));
