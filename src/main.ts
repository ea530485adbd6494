/**
 * Side effects only: read the configuration, open and migrate the database, listen.
 * A bad configuration stops the start with one clear line. SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish, close the database and exit 0.
 */
import { join } from 'node:path';
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, pgliteDirFor } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createLogger } from './log.js';
import { purgeExpiredArtifacts } from './oidc/artifacts.queries.js';
import { purgeExpiredCodes } from './users/codes.queries.js';

function describeDatabase(config: Config): string {
  if (!config.databaseUrl) return `embedded PGlite in ${pgliteDirFor(config.dataDir)}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.host}${url.pathname}`;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tarn: configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: pgliteDirFor(config.dataDir),
    connectTimeoutMs: config.dbConnectTimeoutMs,
  });
  const applied = await migrate(database);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const tarn = createApp({ config, database, log });
  // Webhook deliveries: every instance claims its share (ADR 0809); stopped by tarn.close().
  tarn.webhookWorker.start();
  // The admin pool exists from the first start; without an owner yet, a one-time setup link (ADR 1000).
  const setupLink = await tarn.console.prepareFirstRun();
  // Header limits: Node answers 431 past maxHeaderSize; body limits are the routes' (413).
  const server = createServer({ maxHeaderSize: config.maxHeaderBytes }, tarn.app.callback());
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  // The time to receive a whole request is bounded by the app (REQUEST_TIMEOUT_MS,
  // http/request-deadline.ts), which lets a streaming admin upload run as long as it needs.
  server.requestTimeout = 0;
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, database: describeDatabase(config), publicUrl: config.publicUrl }, 'tarn listening');

  const lines = ['', `Tarn is running at ${config.publicUrl} (listening on port ${port}, ${describeDatabase(config)}).`];
  if (config.adminTokenGenerated) {
    lines.push(`Admin token (kept in ${join(config.dataDir, 'admin.token')}; set TARN_ADMIN_TOKEN to use your own): ${config.adminToken}`);
  }
  lines.push(`Console: ${config.publicUrl}/console`);
  if (setupLink) lines.push(`First run: create the console's owner within an hour, once, at ${setupLink}`);
  lines.push(
    `Quick start: curl -s -X POST ${config.publicUrl}/admin/pools -H "Authorization: Bearer ${config.adminTokenGenerated ? config.adminToken : '$TARN_ADMIN_TOKEN'}" -H 'Content-Type: application/json' -d '{"id":"demo","name":"Demo"}' && curl -s ${config.publicUrl}/pools/demo/.well-known/openid-configuration`,
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');

  // Expired provider artifacts are invisible already (queries filter on expires_at); this only reclaims space.
  const purge = setInterval(
    () => {
      purgeExpiredArtifacts(database.db).then(
        (removed) => removed && log.debug({ removed }, 'expired artifacts purged'),
        (error: unknown) => log.warn({ err: error }, 'artifact purge failed'),
      );
      purgeExpiredCodes(database.db).then(
        (removed) => removed && log.debug({ removed }, 'expired one-time codes purged'),
        (error: unknown) => log.warn({ err: error }, 'one-time code purge failed'),
      );
    },
    10 * 60 * 1000,
  );
  purge.unref();

  const stop = (signal: string) => {
    if (tarn.traffic.draining) return;
    // While draining, every answer closes its connection (the request frame), so keep-alive
    // clients reconnect (to another instance) instead of sending more requests here, and the
    // process can exit as soon as the last answer is out; connections idle now close at once.
    tarn.traffic.draining = true;
    clearInterval(purge);
    // Stop accepting; the callback runs once every in-flight request has been answered.
    server.close(async () => {
      await tarn.close().catch(() => {});
      await database.close().catch(() => {});
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    // Logged once the listening socket is closed: from here on, no new connection gets in.
    log.info({ signal, inFlight: tarn.traffic.inFlight }, 'draining');
    // Whatever is still running after the grace period is cut off.
    setTimeout(() => {
      log.warn({ graceMs: config.shutdownGraceMs }, 'grace period over; cutting off what is left');
      process.exit(0);
    }, config.shutdownGraceMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`tarn: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
