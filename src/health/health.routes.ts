/** /healthz: the process is up. /readyz: the database answers and every migration is applied. */
import Router from '@koa/router';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';

export function createHealthRouter(database: DatabaseHandle): Router {
  const router = new Router();

  router.get('/healthz', function healthz(ctx) {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async function readyz(ctx) {
    try {
      await sql`select 1`.execute(database.db);
      const pending = await pendingMigrations(database);
      ctx.status = pending.length ? 503 : 200;
      ctx.body = pending.length ? { status: 'migrations pending', pending } : { status: 'ready' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'database unreachable' };
    }
  });

  return router;
}
