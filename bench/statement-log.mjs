/**
 * A preload (`node --import bench/statement-log.mjs`) for `npm run bench:statements`: every
 * statement node-postgres sends is appended, one JSON line, to the file STATEMENT_LOG names.
 * Never part of Tarn: the benchmark gives it to the server it measures.
 */
import { appendFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.STATEMENT_LOG;
/** A value as far as the listing needs it: the model of an artifact, not its payload. */
function short(value) {
  const text = Array.isArray(value) ? `[${value.map(short).join(',')}]` : String(value);
  return text.length > 24 ? `${text.slice(0, 10)}…` : text;
}

if (file) {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function logged(config, ...rest) {
    const text = typeof config === 'string' ? config : (config?.text ?? config?.name ?? '?');
    const values = (Array.isArray(rest[0]) ? rest[0] : (config?.values ?? [])).map(short);
    appendFileSync(file, JSON.stringify(`${text.replace(/\s+/g, ' ').trim().slice(0, 120)}  [${values.join(', ')}]`) + '\n');
    return query.call(this, config, ...rest);
  };
}
