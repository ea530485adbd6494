/** `npm run migrate`: applies pending migrations to DATABASE_URL (or PGlite in DATA_DIR) and exits. */
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, pgliteDirFor } from './db/database.js';
import { migrate } from './db/migrate.js';

try {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirFor(config.dataDir) });
  const applied = await migrate(database);
  await database.close();
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'nothing to apply: the schema is up to date\n');
} catch (error) {
  const prefix = error instanceof ConfigError ? 'configuration error' : 'migration failed';
  process.stderr.write(`tarn: ${prefix}: ${(error as Error).message}\n`);
  process.exit(1);
}
