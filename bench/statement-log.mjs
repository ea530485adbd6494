/**
 * A preload (`node --import bench/statement-log.mjs`) for `npm run bench:statements`: every
 * statement node-postgres sends is appended, one JSON line, to the file STATEMENT_LOG names.
 * Never part of Tarn: the benchmark gives it to the server it measures.
 */
import { appendFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.STATEMENT_LOG;
if (file) {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function logged(config, ...rest) {
    const text = typeof config === 'string' ? config : (config?.text ?? config?.name ?? '?');
    appendFileSync(file, JSON.stringify(text.replace(/\s+/g, ' ').trim()) + '\n');
    return query.call(this, config, ...rest);
  };
}
