// @ts-check
/** The tarn commands: each takes parsed arguments and an API client, prints, and returns an exit code. */
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { describeError, ProblemError } from './api.js';
import { auth0LineToTarn } from './auth0.js';
import { addReport, DEFAULT_CHUNK_SIZE, holdsMoreThan, importInChunks } from './chunked-import.js';
import { planRealm } from './keycloak.js';

/** @typedef {ReturnType<typeof import('./api.js').createApi>} Api */
/** @typedef {{ values: Record<string, any>, positionals: string[], out: (line: string) => void, err: NodeJS.WritableStream }} Run */

/** @param {NodeJS.WritableStream} stream @param {string} format */
function progressBar(stream, format) {
  return new cliProgress.SingleBar({ stream, format, hideCursor: true, clearOnComplete: false, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
}

/** @param {string | undefined} value @param {string} what */
function required(value, what) {
  if (!value) throw new UsageError(`Missing ${what}.`);
  return value;
}

export class UsageError extends Error {}

/** Prints an import report; 1 if any line failed. @param {any} report @param {(line: string) => void} out */
function printReport(report, out) {
  const kept = report.committed ? '' : report.dryRun ? ' (dry run: nothing was changed)' : ' (atomic: nothing was kept)';
  out(`${report.lines} lines: ${report.created} created, ${report.updated} updated, ${report.skipped} skipped, ${report.failed} failed${kept}`);
  if (report.requests > 1) out(`  sent in ${report.requests} requests; failed lines are numbered as in the file`);
  for (const failure of report.failures ?? []) {
    const where = failure.line === 0 ? 'settings (the --firebase-* flags)' : `line ${failure.line}`;
    for (const error of failure.errors) out(`  ${where}: ${error.field ? `${error.field}: ` : ''}${error.detail}`);
  }
  if (report.failuresTruncated) out(`  … and more (${report.failed} failed lines in all)`);
  return report.failed > 0 ? 1 : 0;
}

/** @param {Record<string, any>} values */
function importQuery(values) {
  const query = new URLSearchParams();
  if (values['dry-run']) query.set('dryRun', 'true');
  if (values.atomic) query.set('atomic', 'true');
  if (values['on-conflict']) query.set('onConflict', values['on-conflict']);
  if (values['require-password-change']) query.set('requirePasswordChange', 'true');
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** @param {Api} api @param {Run} run */
export async function poolsList(api, { out }) {
  let cursor = '';
  do {
    const page = await api.json('GET', `/pools?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const pool of page.items) out(`${pool.id}\t${pool.name}\t${pool.issuer ?? ''}`);
    cursor = page.nextCursor ?? '';
  } while (cursor);
  return 0;
}

/** @param {Api} api @param {Run} run */
export async function poolsCreate(api, { values, positionals, out }) {
  const id = required(positionals[0], 'the pool id (tarn pools create ID --name NAME)');
  const pool = await api.json('POST', '/pools', { id, name: values.name ?? id });
  out(JSON.stringify(pool, null, 2));
  return 0;
}

/** @param {Api} api @param {Run} run */
export async function clientsCreate(api, { values, positionals, out }) {
  const pool = required(positionals[0], 'the pool id (tarn clients create POOL --name NAME --redirect-uri URI)');
  const body = {
    name: required(values.name, '--name'),
    redirectUris: values['redirect-uri'] ?? [],
    ...(values.public ? { tokenEndpointAuthMethod: 'none' } : {}),
    ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
  };
  out(JSON.stringify(await api.json('POST', `/pools/${encodeURIComponent(pool)}/clients`, body), null, 2));
  return 0;
}

/** The --chunk-size flag: users a request. @param {Record<string, any>} values */
function chunkSize(values) {
  if (values['chunk-size'] === undefined) return DEFAULT_CHUNK_SIZE;
  const size = Number(values['chunk-size']);
  if (!Number.isInteger(size) || size < 1) throw new UsageError('--chunk-size must be a whole number of users, 1 or more.');
  return size;
}

/**
 * Sends a user file in requests of --chunk-size users and prints the merged report.
 * @param {Api} api @param {Run} run
 * @param {{ pool: string, file: string, csv: boolean, settingsLine?: string, mapLine?: (text: string) => string }} what
 */
async function importFile(api, { values, out, err }, { pool, file, csv, settingsLine, mapLine }) {
  const size = chunkSize(values);
  if (values.atomic && (await holdsMoreThan(file, csv, size)))
    throw new UsageError(
      `--atomic keeps all or nothing within one request, and ${file} holds more than ${size} users (--chunk-size), so it would take several. ` +
        'Check the whole file with --dry-run, then import it without --atomic (with --on-conflict skip a run can be repeated); ' +
        'or raise --chunk-size to send it as one request (the server does not cut an import however long it takes).',
    );
  const total = statSync(file).size;
  const bar = progressBar(err, 'Importing [{bar}] {percentage}% | {value}/{total} bytes | request {request} | ETA {eta}s');
  bar.start(total, 0, { request: 1 });
  const path = `/pools/${encodeURIComponent(pool)}/users/import${importQuery(values)}`;
  try {
    const report = await importInChunks({
      path: file,
      csv,
      chunkSize: size,
      settingsLine,
      mapLine,
      send: (body) => api.stream(path, csv ? 'text/csv' : 'application/x-ndjson', body),
      progress: (bytes, request) => bar.update(bytes, { request }),
    });
    bar.update(total);
    bar.stop();
    return printReport(report, out);
  } catch (error) {
    bar.stop();
    const { partialReport, failedFromLine } = /** @type {{ partialReport?: any, failedFromLine?: number }} */ (error);
    if (partialReport) {
      out(`The request from line ${failedFromLine} on failed; the requests before it were imported:`);
      printReport(partialReport, out);
    }
    throw error;
  }
}

/** @param {Api} api @param {Run} run */
export async function usersImport(api, run) {
  const { values, positionals } = run;
  const pool = required(positionals[0], 'the pool id (tarn users import POOL FILE)');
  const file = required(positionals[1], 'the file to import (NDJSON, or CSV with a header row)');
  const csv = values.csv || file.toLowerCase().endsWith('.csv');
  if (csv && values['firebase-signer-key'])
    throw new UsageError('Firebase scrypt parameters go with an NDJSON file (its settings line); convert the CSV to NDJSON first.');
  // Firebase's project parameters go first, once for every user (and again in every request).
  const settingsLine = values['firebase-signer-key']
    ? JSON.stringify({
        settings: {
          firebaseScrypt: {
            signerKey: values['firebase-signer-key'],
            saltSeparator: values['firebase-salt-separator'] ?? '',
            rounds: Number(values['firebase-rounds'] ?? 8),
            memCost: Number(values['firebase-mem-cost'] ?? 14),
          },
        },
      })
    : undefined;
  return importFile(api, run, { pool, file, csv, settingsLine });
}

/** @param {Api} api @param {Run} run */
export async function usersExport(api, { values, positionals, out, err }) {
  const pool = required(positionals[0], 'the pool id (tarn users export POOL [--output FILE])');
  const query = values['include-password-hashes'] ? '?includePasswordHashes=true' : '';
  const response = await api.get(`/pools/${encodeURIComponent(pool)}/users/export${query}`);
  const target = values.output ? createWriteStream(values.output) : process.stdout;
  const bar = progressBar(err, 'Exporting | {value} users');
  bar.start(0, 0);
  let users = 0;
  const decoder = new TextDecoder();
  for await (const chunk of /** @type {AsyncIterable<Uint8Array>} */ (/** @type {unknown} */ (response.body))) {
    users += decoder.decode(chunk, { stream: true }).split('\n').length - 1;
    bar.setTotal(users);
    bar.update(users);
    if (!target.write(chunk)) await once(target, 'drain');
  }
  bar.stop();
  if (values.output) {
    target.end();
    await once(target, 'finish');
    out(`${users} users written to ${values.output}`);
  }
  return 0;
}

/** @param {Api} api @param {Run} run */
export async function importKeycloak(api, { values, positionals, out, err }) {
  const file = required(positionals[0], 'the realm export (tarn import keycloak REALM.json [USERS.json …])');
  const realm = JSON.parse(readFileSync(file, 'utf8'));
  const userFiles = positionals.slice(1).map((path) => JSON.parse(readFileSync(path, 'utf8')));
  const plan = planRealm(realm, userFiles);
  const size = chunkSize(values);
  if (values.atomic && plan.users.length > size)
    throw new UsageError(
      `--atomic keeps all or nothing within one request, and the realm has more than ${size} users (--chunk-size), so it would take several.`,
    );
  const poolId = values.pool ?? plan.pool.id;
  const pool = await api.json('POST', '/pools', { id: poolId, name: plan.pool.name });
  out(`Pool ${pool.id} (${pool.issuer}); its API secret, shown once: ${pool.secret.value}`);
  /** @type {Map<string, string>} */
  const groupIds = new Map();
  for (const group of plan.groups) {
    const parentId = group.parentPath ? groupIds.get(group.parentPath) : undefined;
    const created = await api.json('POST', `/pools/${poolId}/groups`, { name: group.name, ...(parentId ? { parentId } : {}) });
    groupIds.set(group.path, created.id);
  }
  out(`${plan.groups.length} groups`);
  for (const client of plan.clients) {
    try {
      const created = await api.json('POST', `/pools/${poolId}/clients`, client);
      out(`Client ${created.clientId}${client.clientSecret ? ' (secret kept)' : created.secret ? ` (new secret, shown once: ${created.secret.value})` : ''}`);
    } catch (error) {
      // One application Tarn refuses (a redirect URI it does not allow, …) does not stop the move.
      if (!(error instanceof ProblemError)) throw error;
      plan.leftBehind.push(`client ${client.clientId}: refused by Tarn: ${describeError(error).replace(/\n\s*/g, '; ')}`);
    }
  }
  const bar = progressBar(err, 'Importing users [{bar}] {percentage}% | {value}/{total} | request {request}');
  bar.start(plan.users.length, 0, { request: 1 });
  /** @param {number} start @param {number} end */
  async function* lines(start, end) {
    for (let index = start; index < end; index += 1) {
      if ((index + 1) % 100 === 0) bar.update(index + 1);
      yield `${JSON.stringify(plan.users[index])}\n`;
    }
    bar.update(end);
  }
  // In requests of --chunk-size users: a failed request loses only its own part.
  /** @type {import('./chunked-import.js').MergedReport | undefined} */
  let report;
  for (let start = 0; start === 0 || start < plan.users.length; start += size) {
    bar.update(start, { request: (report?.requests ?? 0) + 1 });
    const answer = await api.stream(
      `/pools/${poolId}/users/import${importQuery(values)}`,
      'application/x-ndjson',
      lines(start, Math.min(start + size, plan.users.length)),
    );
    report = addReport(report, answer, (line) => (line <= 0 ? 0 : line + start));
  }
  bar.stop();
  const code = printReport(report, out);
  if (plan.leftBehind.length) {
    out('Left behind (see docs/migrate.md):');
    for (const item of plan.leftBehind) out(`  ${item}`);
  }
  return code;
}

/** @param {Api} api @param {Run} run */
export async function keysRotate(api, { values, positionals, out }) {
  const pool = required(positionals[0], 'the pool id (tarn keys rotate POOL)');
  const keys = await api.json('POST', `/pools/${encodeURIComponent(pool)}/keys/rotate`, values.revoke ? { revoke: true } : {});
  for (const key of keys.items) out(`${key.kid}\t${key.alg}\t${key.status}`);
  return 0;
}

/** @param {Api} api @param {Run} run */
export async function secretsRotate(api, { positionals, out }) {
  const pool = required(positionals[0], 'the pool id (tarn secrets rotate POOL)');
  out(JSON.stringify(await api.json('POST', `/pools/${encodeURIComponent(pool)}/secrets/rotate`), null, 2));
  return 0;
}

/** @param {Api} api @param {Run} run */
export async function importAuth0(api, run) {
  const pool = required(run.positionals[0], 'the pool id (tarn import auth0 POOL USERS.ndjson)');
  const file = required(run.positionals[1], 'the Auth0 export (NDJSON)');
  return importFile(api, run, { pool, file, csv: false, mapLine: auth0LineToTarn });
}
