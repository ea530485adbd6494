/**
 * POST /admin/pools/{pool}/users/import   NDJSON or CSV, streamed; the answer is a report.
 * GET  /admin/pools/{pool}/users/export   NDJSON, streamed.
 * The HTTP layer only picks the format, reads the options and hands the request stream to
 * the import service (neither route declares a JSON body: the guard must not buffer it).
 * Password hashes leave only with ?includePasswordHashes=true and the admin token: a pool
 * secret is an application's credential, and an export of hashes is an owner's act
 * (ADR 0305). Such an export is recorded in the audit log.
 * Mounted before the users routes, so "import" and "export" never reach /users/:userId.
 */
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { poolRoute } from '../../admin/pool-scope.js';
import { annotateAudit, changeBatches } from '../../audit/audit.middleware.js';
import type { AuditService } from '../../audit/audit.service.js';
import { problems } from '../../http/problem.js';
import { exemptFromRequestDeadline } from '../../http/request-deadline.js';
import { exportLineResponse, exportOptionsSchema, importOptionsSchema, importReportResponse } from './import.schemas.js';
import type { ImportFormat, ImportService } from './import.service.js';

function importFormat(ctx: Context): ImportFormat {
  if (ctx.is('application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/jsonlines')) return 'ndjson';
  if (ctx.is('text/csv')) return 'csv';
  throw problems.unsupportedMediaType('application/x-ndjson (one user per line) or text/csv with a header row');
}

export function userImportRoutes(importer: ImportService, audit?: AuditService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/users/import',
        summary: 'Import users, streamed: NDJSON (one user a line) or CSV with a header row; existing password hashes are kept',
        description:
          'The body is read as it arrives (no size limit, 64 KiB per line). Every line is checked like a user creation; the report names each failed line and field. See docs/migrate.md.',
        query: importOptionsSchema,
        status: 200,
        response: importReportResponse,
        problems: [415],
      },
      async function importUsers(ctx, { query }) {
        const format = importFormat(ctx);
        // An authenticated admin's upload of a million lines may take minutes: no request deadline.
        exemptFromRequestDeadline(ctx.req);
        const report = await importer.importUsers(ctx.state.pool.id, ctx.req, format, query, changeBatches(ctx, 200, { via: 'import' }));
        const { failures: _failures, failuresTruncated: _truncated, ...counts } = report;
        annotateAudit(ctx, { target: { type: 'pool', id: ctx.state.pool.id }, details: { format, ...counts } });
        return report;
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/users/export',
        summary: "Export every user as NDJSON (the import's line format, groups as paths), streamed",
        description: 'With includePasswordHashes=true (admin token only) each line also has passwordHash and passwordHashFormat.',
        query: exportOptionsSchema,
        status: 200,
        streamed: { mediaType: 'application/x-ndjson', item: exportLineResponse },
        problems: [403],
      },
      async function exportUsers(ctx, { query }) {
        const poolId = ctx.state.pool.id;
        if (query.includePasswordHashes && ctx.state.principal.kind !== 'admin') {
          throw problems.forbidden('Password hashes are exported only with the admin token, not with a pool secret.');
        }
        const lines = importer.exportUsers(poolId, query);
        // The first page is read before answering, so a failure is a problem document, not a cut stream.
        const first = await lines.next();
        if (query.includePasswordHashes && audit) {
          await audit.record(
            { poolId, action: 'users.export', outcome: 'success', target: { type: 'pool', id: poolId }, details: { includePasswordHashes: true } },
            ctx.state.audit,
          );
        }
        ctx.type = 'application/x-ndjson';
        ctx.body = Readable.from(
          (async function* () {
            if (!first.done) yield first.value;
            yield* lines;
          })(),
        );
      },
    ),
  ];
}
