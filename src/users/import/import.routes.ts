/**
 * POST /admin/pools/{pool}/users/import   NDJSON or CSV, streamed; the answer is a report.
 * GET  /admin/pools/{pool}/users/export   NDJSON, streamed.
 * The HTTP layer only picks the format, reads the options and hands the request stream to
 * the import service. Password hashes leave only with ?includePasswordHashes=true and the
 * admin token: a pool secret is an application's credential, and an export of hashes is
 * an owner's act (ADR 0305). Such an export is recorded in the audit log.
 */
import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { authorizedPool, requireAdmin } from '../../admin/admin-auth.js';
import { annotateAudit } from '../../audit/audit.middleware.js';
import type { AuditRequestScope, AuditService } from '../../audit/audit.service.js';
import { problems } from '../../http/problem.js';
import { parseInput } from '../../http/validation.js';
import { exportOptionsSchema, importOptionsSchema } from './import.schemas.js';
import type { ImportFormat, ImportService } from './import.service.js';

function importFormat(ctx: Context): ImportFormat {
  if (ctx.is('application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines')) return 'ndjson';
  if (ctx.is('text/csv')) return 'csv';
  throw problems.unsupportedMediaType('application/x-ndjson (one user per line) or text/csv with a header row');
}

export function registerUserImportRoutes(router: Router, importer: ImportService, audit?: AuditService): void {
  router.post('/pools/:pool/users/import', async function importUsers(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    const options = parseInput(importOptionsSchema, { ...ctx.query }, 'query');
    const format = importFormat(ctx);
    const report = await importer.importUsers(poolId, ctx.req, format, options);
    const { failures: _failures, failuresTruncated: _truncated, ...counts } = report;
    annotateAudit(ctx, { target: { type: 'pool', id: poolId }, details: { format, ...counts } });
    ctx.body = report;
  });

  router.get('/pools/:pool/users/export', async function exportUsers(ctx) {
    const poolId = authorizedPool(ctx, ctx.params.pool!);
    const options = parseInput(exportOptionsSchema, { ...ctx.query }, 'query');
    if (options.includePasswordHashes) requireAdmin(ctx);
    const lines = importer.exportUsers(poolId, options);
    // The first page is read before answering, so an unknown pool is a 404, not a broken stream.
    const first = await lines.next();
    if (options.includePasswordHashes && audit) {
      await audit.record(
        { poolId, action: 'users.export', outcome: 'success', target: { type: 'pool', id: poolId }, details: { includePasswordHashes: true } },
        ctx.state.audit as AuditRequestScope | undefined,
      );
    }
    ctx.type = 'application/x-ndjson';
    ctx.body = Readable.from((async function* () {
      if (!first.done) yield first.value;
      yield* lines;
    })());
  });
}
