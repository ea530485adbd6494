/**
 * Bulk import and export of a pool's users (docs/migrate.md, ADR 0305).
 * - The body is read line by line as it arrives (NDJSON or CSV): memory holds one batch,
 *   never the body; a batch of up to BATCH_SIZE users is one INSERT.
 * - Every line is checked like a user creation (fields, the pool's profile and metadata
 *   schemas, groups that exist); a bad line is reported with its number and the field, and
 *   the others go on, unless the import is atomic (then nothing is kept if one line fails).
 * - A dry run does all of it, conflicts included, in a transaction that is rolled back.
 * - Password hashes from other systems are stored as they are (password-hashes/) and become
 *   argon2id at the user's first sign-in; plain passwords are hashed with the pool's argon2id.
 * - Export walks the users by id a page at a time: the answer is streamed, memory stays flat.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Db } from '../../db/database.js';
import type { PasswordChange, PoolRow } from '../../db/tables.js';
import { fieldError, problems, type FieldError } from '../../http/problem.js';
import type { Logger } from '../../log.js';
import { createPoolQueries } from '../../pools/pools.queries.js';
import { formatOfStored, firebaseSettingsProblem, toStoredHash, type ImportSettings } from '../password-hashes/index.js';
import type { PasswordHasher } from '../password.js';
import { normalizeEmail } from '../email.js';
import { passwordProblems } from '../password-policy.js';
import type { UserSchemas } from '../user-schema.js';
import { readCsvLines } from './csv-lines.js';
import { createGroupPaths, type GroupPaths } from './group-paths.js';
import { createImportQueries, type BatchEvents, type ImportRow } from './import.queries.js';
import type { EventBatches } from '../../audit/audit.service.js';
import { compiledImportLineSchema, settingsLineSchema, type ImportOptions } from './import.schemas.js';
import { readLineBatches } from './line-reader.js';

export const BATCH_SIZE = 1000;
export const MAX_LINE_BYTES = 64 * 1024;
/** The report lists this many failed lines; the count covers them all. */
export const MAX_REPORTED_FAILURES = 1000;
const EXPORT_PAGE = 1000;

export type ImportFormat = 'ndjson' | 'csv';

export interface LineFailure {
  line: number;
  errors: FieldError[];
}

export interface ImportReport {
  dryRun: boolean;
  atomic: boolean;
  onConflict: ImportOptions['onConflict'];
  /** False for a dry run and for an atomic import with a failed line: nothing was kept. */
  committed: boolean;
  lines: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  failures: LineFailure[];
  failuresTruncated: boolean;
}

interface Pending {
  line: number;
  row: ImportRow;
  groupIds: string[];
}

type RawLine = { number: number; value: unknown } | { number: number; problem: string; field?: string };

/** The client went away mid-body: its mistake (or its network's), never a 500. */
function bodyEnded(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (error as Error | undefined)?.message === 'aborted';
}

/** The lines of the body as they arrive, a chunk's worth at a time. */
async function* rawLines(source: Readable, format: ImportFormat): AsyncGenerator<RawLine[]> {
  try {
    yield* parsedLines(source, format);
  } catch (error) {
    if (bodyEnded(error))
      throw problems.badRequest('The request body ended before it was complete; users already stored are kept unless the import was atomic or a dry run.');
    throw error;
  }
}

async function* parsedLines(source: Readable, format: ImportFormat): AsyncGenerator<RawLine[]> {
  if (format === 'csv') {
    for await (const line of readCsvLines(source, MAX_LINE_BYTES)) yield ['problem' in line ? { ...line, field: '' } : line];
    return;
  }
  for await (const lines of readLineBatches(source, MAX_LINE_BYTES)) {
    yield lines.map((line): RawLine => {
      if ('tooLong' in line) return { number: line.number, problem: `The line is longer than ${MAX_LINE_BYTES} bytes.` };
      try {
        return { number: line.number, value: JSON.parse(line.text) as unknown };
      } catch {
        return { number: line.number, problem: 'The line is not valid JSON.' };
      }
    });
  }
}

/** Thrown inside the transaction to roll it back (dry run, or an atomic import with a failure). */
class Rollback extends Error {}

/** The users' events of an import, written by its batches and counted once they committed. */
interface WrittenEvents {
  next(count: number): BatchEvents;
  /** A batch wrote these events (committed with it, or pending the import's transaction). */
  written(created: number, updated: number, queued: number): void;
  /** The import's transaction committed. */
  commit(): void;
}

function writtenEvents(batches: EventBatches, autocommit: boolean): WrittenEvents {
  let created = 0;
  let updated = 0;
  let queued = 0;
  const commit = () => {
    if (created + updated === 0) return;
    batches.committed(
      new Map([
        ['user.created', created],
        ['user.updated', updated],
      ]),
      queued,
    );
    created = updated = queued = 0;
  };
  return {
    next: (count) => batches.next(count),
    written(c, u, q) {
      created += c;
      updated += u;
      queued += q;
      if (autocommit) commit();
    },
    commit,
  };
}

export interface ImportServiceDeps {
  db: Db;
  hasher: PasswordHasher;
  schemas: UserSchemas;
  log: Logger;
}

export function createImportService({ db, hasher, schemas, log }: ImportServiceDeps) {
  async function getPool(poolId: string): Promise<PoolRow> {
    const pool = await createPoolQueries(db).findPool(poolId);
    if (!pool) throw problems.notFound('Pool');
    return pool;
  }

  async function run(
    target: Db,
    pool: PoolRow,
    source: Readable,
    format: ImportFormat,
    options: ImportOptions,
    report: ImportReport,
    events: WrittenEvents | undefined,
  ): Promise<void> {
    const queries = createImportQueries(target, pool.id);
    const groups: GroupPaths = createGroupPaths(await queries.listGroups());
    const checkProfile = schemas.validator(schemas.profileSchemaOf(pool), 'profile');
    const checkMetadata = schemas.validator(schemas.metadataSchemaOf(pool), 'metadata');
    let settings: ImportSettings = {};
    let batch: Pending[] = [];
    const emailsInBatch = new Set<string>();
    const idsInBatch = new Set<string>();

    function fail(line: number, errors: FieldError[]): void {
      report.failed += 1;
      if (report.failures.length < MAX_REPORTED_FAILURES) report.failures.push({ line, errors });
      else report.failuresTruncated = true;
    }

    // One batch is stored while the next is read and checked (at most two in memory).
    let storing: Promise<void> = Promise.resolve();
    let expectNew = true;
    async function flush(): Promise<void> {
      if (batch.length === 0) return;
      const entries = batch;
      batch = [];
      emailsInBatch.clear();
      idsInBatch.clear();
      const previous = storing;
      storing = previous.then(() => store(entries));
      storing.catch(() => undefined); // awaited by the next flush or at the end; never unhandled
      await previous;
    }

    async function store(given: Pending[]): Promise<void> {
      let entries = given;
      if (options.onConflict === 'update') {
        const taken = await queries.idsTakenByOthers(entries.map((entry) => entry.row));
        entries = entries.filter((entry) => {
          if (!taken.has(entry.row.id)) return true;
          fail(entry.line, [fieldError('id', 'Belongs to another user of the pool.')]);
          return false;
        });
      }
      const rows = entries.map((entry) => entry.row);
      // New users (the usual move into a new pool) take the plain INSERT; a batch that meets an
      // existing user is stored again with ON CONFLICT, and so are the batches after it.
      // Either statement writes each stored user's event and its deliveries too (ADR 0809).
      if (expectNew && options.onConflict !== 'update') {
        const queued = await queries.insertNewUsers(rows, events?.next(rows.length));
        if (queued !== false) {
          events?.written(entries.length, 0, queued);
          report.created += entries.length;
          await queries.insertMemberships(entries.flatMap((entry) => entry.groupIds.map((groupId) => ({ userId: entry.row.id, groupId }))));
          return;
        }
        expectNew = false;
      }
      const result = await queries.insertUsers(rows, options.onConflict, events?.next(rows.length));
      const stored = new Map(result.stored.map((row) => [row.email, row]));
      const inserted = result.stored.filter((row) => row.inserted).length;
      events?.written(inserted, result.stored.length - inserted, result.queued);
      const memberships: { userId: string; groupId: string }[] = [];
      for (const entry of entries) {
        const row = stored.get(entry.row.email.toLowerCase());
        if (!row) {
          if (options.onConflict === 'skip') report.skipped += 1;
          else fail(entry.line, [fieldError('email', 'A user with this email (or id) already exists in the pool.')]);
          continue;
        }
        if (row.inserted) report.created += 1;
        else report.updated += 1;
        for (const groupId of entry.groupIds) memberships.push({ userId: row.id, groupId });
      }
      await queries.insertMemberships(memberships);
    }

    /** The line as a row to store, or what is wrong with it; a promise only for a plain password (hashed here). */
    function toPending(number: number, value: unknown): Pending | FieldError[] | Promise<Pending | FieldError[]> {
      const parsed = compiledImportLineSchema.safeParse(value);
      if (!parsed.success) {
        return parsed.error.issues.flatMap((issue) =>
          issue.code === 'unrecognized_keys'
            ? issue.keys.map((key) => fieldError([...issue.path, key], 'Unknown field.'))
            : [fieldError(issue.path, issue.message)],
        );
      }
      const line = parsed.data;
      const profile = line.profile ?? {};
      const metadata = line.metadata ?? {};
      const errors = [...checkProfile(profile), ...checkMetadata(metadata)];
      const groupIds: string[] = [];
      (line.groups ?? []).forEach((name, index) => {
        const id = groups.resolve(name);
        if (id) groupIds.push(id);
        else errors.push(fieldError(['groups', index], `No group "${name}" in the pool.`));
      });
      let passwordHash: string | null = null;
      let passwordChange: PasswordChange | null = null;
      if (line.passwordHash !== undefined && line.passwordHashFormat !== undefined) {
        const result = toStoredHash({ format: line.passwordHashFormat, hash: line.passwordHash, salt: line.passwordSalt }, settings);
        if (result.ok) passwordHash = result.stored;
        else errors.push(fieldError('passwordHash', result.problem));
        if (options.requirePasswordChange === 'weak') passwordChange = 'if_weak';
      }
      if (errors.length) return errors;
      const pending = (hash: string | null, change: PasswordChange | null): Pending => ({
        line: number,
        groupIds,
        row: {
          id: line.id ?? randomUUID(),
          email: normalizeEmail(line.email),
          email_verified: line.emailVerified ?? false,
          phone: line.phone ?? null,
          status: line.status ?? 'active',
          profile,
          metadata,
          password_hash: hash,
          password_change: hash !== null && (options.requirePasswordChange === 'all' || line.passwordChange === 'required') ? 'required' : change,
          created_at: line.createdAt ?? null,
        },
      });
      const password = line.password;
      if (password === undefined) return pending(passwordHash, passwordChange);
      if (options.requirePasswordChange === 'weak' && passwordProblems(pool.password_policy, password, line.email).length) passwordChange = 'required';
      return hasher.hash(password).then((hash) => pending(hash, passwordChange));
    }

    for await (const raws of rawLines(source, format))
      for (const raw of raws) {
        report.lines = Math.max(report.lines, raw.number);
        if ('problem' in raw) {
          fail(raw.number, [fieldError(raw.field ?? '', raw.problem)]);
          continue;
        }
        // NDJSON may open with the import's settings (Firebase's project parameters).
        if (raw.number === 1 && format === 'ndjson' && raw.value !== null && typeof raw.value === 'object' && 'settings' in raw.value) {
          const parsed = settingsLineSchema.safeParse(raw.value);
          const problem = parsed.success
            ? parsed.data.settings.firebaseScrypt && firebaseSettingsProblem(parsed.data.settings.firebaseScrypt)
            : 'Unreadable settings.';
          if (!parsed.success || problem) fail(raw.number, [fieldError('settings.firebaseScrypt', problem || 'Unreadable settings.')]);
          else settings = parsed.data.settings;
          continue;
        }
        let checked = toPending(raw.number, raw.value);
        if (checked instanceof Promise) checked = await checked;
        if (Array.isArray(checked)) {
          fail(raw.number, checked);
          continue;
        }
        const pending = checked;
        // The same user twice in one statement would collide with itself: the earlier one goes first.
        const email = pending.row.email.toLowerCase();
        if (emailsInBatch.has(email) || idsInBatch.has(pending.row.id)) await flush();
        emailsInBatch.add(email);
        idsInBatch.add(pending.row.id);
        batch.push(pending);
        if (batch.length >= BATCH_SIZE) await flush();
      }
    await flush();
    await storing;
    // Conflicts are known when a batch is stored, after later lines were checked.
    report.failures.sort((a, b) => a.line - b.line);
  }

  return {
    /** `batches` writes a `user.created` (or `user.updated`) for every user stored, with the batch that stores it. */
    async importUsers(poolId: string, source: Readable, format: ImportFormat, options: ImportOptions, batches?: EventBatches): Promise<ImportReport> {
      const pool = await getPool(poolId);
      const report: ImportReport = {
        dryRun: options.dryRun,
        atomic: options.atomic,
        onConflict: options.onConflict,
        committed: !options.dryRun,
        lines: 0,
        created: 0,
        updated: 0,
        skipped: 0,
        failed: 0,
        failures: [],
        failuresTruncated: false,
      };
      if (!options.dryRun && !options.atomic) {
        // Each batch commits on its own, with its users' events.
        await run(db, pool, source, format, options, report, batches && writtenEvents(batches, true));
        return report;
      }
      // One transaction, rolled back for a dry run and for an atomic import with a failure: the users' events with it.
      const events = batches && writtenEvents(batches, false);
      await db
        .transaction()
        .execute(async (trx) => {
          await run(trx, pool, source, format, options, report, events);
          if (options.dryRun || report.failed > 0) throw new Rollback('import rolled back');
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      report.committed = !options.dryRun && report.failed === 0;
      if (report.committed) events?.commit();
      if (!report.committed) log.debug({ poolId, failed: report.failed }, 'import rolled back');
      return report;
    },

    /** NDJSON lines of every user, with the paths of their groups and, if asked, their password hash. */
    async *exportUsers(poolId: string, options: { includePasswordHashes: boolean }): AsyncGenerator<string> {
      await getPool(poolId);
      const queries = createImportQueries(db, poolId);
      const groups = createGroupPaths(await queries.listGroups());
      let after: string | undefined;
      for (;;) {
        const rows = await queries.exportPage(EXPORT_PAGE, after);
        let chunk = '';
        for (const row of rows) {
          const line: Record<string, unknown> = {
            id: row.id,
            email: row.email,
            emailVerified: row.email_verified,
            phone: row.phone,
            status: row.status,
            profile: row.profile,
            metadata: row.metadata,
            groups: (row.group_ids ?? []).map((id) => groups.pathOf(id)).filter(Boolean),
            createdAt: new Date(row.created_at).toISOString(),
          };
          if (options.includePasswordHashes && row.password_hash) {
            line.passwordHash = row.password_hash;
            line.passwordHashFormat = formatOfStored(row.password_hash);
          }
          chunk += `${JSON.stringify(line)}\n`;
        }
        if (chunk) yield chunk;
        if (rows.length < EXPORT_PAGE) return;
        after = rows[rows.length - 1]!.id;
      }
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
