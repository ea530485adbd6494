/**
 * npm run bench:import: users streamed into PostgreSQL through POST …/users/import, as
 * NDJSON generated on the fly (nothing on disk, nothing held whole) in requests of
 * BENCH_IMPORT_REQUEST_USERS users, into one pool, against a Tarn compiled and run as an
 * operator runs it. The server's peak RSS is noted at 100k, 250k, 500k … users sent. Prints users/s and the server's peak RSS, without and
 * with bcrypt hashes (which are stored as they are, not computed at import).
 * The server's CPU time per user is printed too: on a shared machine it is steadier than users/s
 * (the rate also pays for this process generating the lines and for PostgreSQL).
 * A measurement, not a test. BENCH_IMPORT_USERS (default 1,000,000) sets the size;
 * BENCH_CPU_PROF=DIR writes the server's CPU profile there.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { BATCH_SIZE } from '../src/users/import/import.service.js';
import { buildForBench, createBenchDatabase, envInt, startTarn, trackDatabaseBackendsCpu, type ServerProcess } from './lib.js';

const USERS = envInt('BENCH_IMPORT_USERS', 1_000_000);
/**
 * Users per request (BENCH_IMPORT_REQUEST_USERS): by default all of them in one request, as
 * `tarn users import FILE` sends a file (the import route is exempt from the request deadline,
 * src/http/request-deadline.ts). Smaller values send parts one after the other, into one pool.
 */
const REQUEST_USERS = envInt('BENCH_IMPORT_REQUEST_USERS', USERS);
const root = fileURLToPath(new URL('..', import.meta.url));
// A few real bcrypt hashes (cost 10), reused: the server only checks their form at import.
const HASHES = Array.from({ length: 8 }, (_, i) => bcrypt.hashSync(`password-${i}`, 10));

/** Sent-line counts at which the server's peak RSS so far is noted: flat memory means the same peak at each. */
const CHECKPOINTS = [100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000].filter((n) => n < USERS);

function* lines(from: number, to: number, tag: string, withHashes: boolean, onProgress: (sent: number) => void = () => undefined): Generator<string> {
  let chunk = '';
  for (let i = from; i < to; i += 1) {
    const user: Record<string, unknown> = {
      email: `user${i}-${tag}@bench.example`,
      emailVerified: true,
      profile: { name: `User ${i}`, given_name: 'User' },
      metadata: { n: i },
    };
    if (withHashes) Object.assign(user, { passwordHashFormat: 'bcrypt', passwordHash: HASHES[i % HASHES.length] });
    chunk += `${JSON.stringify(user)}\n`;
    if (CHECKPOINTS.includes(i + 1)) onProgress(i + 1);
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** One streamed import request (node:http: no client-side timeout, and the body is written as the socket drains). */
function postLines(url: string, adminToken: string, source: Generator<string>): Promise<{ created: number; failed: number }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-ndjson' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (data: string) => (text += data));
        response.on('error', reject);
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`import answered ${response.statusCode}: ${text.slice(0, 500)}`));
          else resolve(JSON.parse(text) as { created: number; failed: number });
        });
      },
    );
    request.on('error', reject);
    const pump = () => {
      for (;;) {
        const next = source.next();
        if (next.done) return void request.end();
        if (!request.write(next.value)) return void request.once('drain', pump);
      }
    };
    pump();
  });
}

async function run(server: ServerProcess, databaseName: string, adminToken: string, label: string, withHashes: boolean) {
  const poolId = `bench-${randomBytes(4).toString('hex')}`;
  const created = await fetch(`${server.url}/admin/pools`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: poolId, name: 'Bench' }),
  });
  if (created.status !== 201) throw new Error(`pool creation failed: ${await created.text()}`);
  const baseline = server.rssMiB();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, server.rssMiB());
  }, 100);
  const peaks: string[] = [];
  // Lines are sent as they are generated and the server reads them as they arrive (a few chunks of slack).
  const tag = randomBytes(3).toString('hex');
  const onProgress = (sent: number) => {
    peak = Math.max(peak, server.rssMiB());
    peaks.push(`${sent.toLocaleString('en')}: ${peak.toFixed(0)} MiB`);
  };
  const database = trackDatabaseBackendsCpu(databaseName);
  const cpuBefore = server.cpuMs();
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const report = { created: 0, failed: 0 };
  for (let from = 0; from < USERS; from += REQUEST_USERS) {
    const part = await postLines(
      `${server.url}/admin/pools/${poolId}/users/import`,
      adminToken,
      lines(from, Math.min(USERS, from + REQUEST_USERS), tag, withHashes, onProgress),
    );
    report.created += part.created;
    report.failed += part.failed;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const cpuPerUser = ((server.cpuMs() - cpuBefore) * 1000) / USERS;
  const own = process.cpuUsage(ownBefore);
  const clientPerUser = (own.user + own.system) / USERS;
  const databasePerUser = ((await database.stop()) * 1000) / USERS;
  peak = Math.max(peak, server.rssMiB());
  peaks.push(`${USERS.toLocaleString('en')}: ${peak.toFixed(0)} MiB`);
  if (report.created !== USERS || report.failed !== 0) throw new Error(`unexpected report: ${JSON.stringify(report).slice(0, 500)}`);
  console.log(
    `${label.padEnd(16)} ${USERS.toLocaleString('en')} users in ${seconds.toFixed(1)} s = ${Math.round(USERS / seconds).toLocaleString('en')} users/s; server RSS ${baseline.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB peak`,
  );
  console.log(
    `${''.padEnd(16)} CPU per 1000 users: server ${cpuPerUser.toFixed(1)} ms, PostgreSQL ${databasePerUser.toFixed(1)} ms (its backends for this database), this generator ${clientPerUser.toFixed(1)} ms; server + PostgreSQL = ${Math.round(1e6 / (cpuPerUser + databasePerUser)).toLocaleString('en')} users per CPU-second`,
  );
  console.log(`${''.padEnd(16)} server peak RSS after n users sent: ${peaks.join(', ')}`);
}

// Compiled and run with plain node, as production runs (BENCH_TSX=1: the sources under tsx).
const code = buildForBench(root);
const database = await createBenchDatabase('tarn_bench_import');
const adminToken = randomBytes(16).toString('hex');
const server = await startTarn('tarn', code.script('src/main.ts'), {
  databaseUrl: database.url,
  adminToken,
  masterKey: randomBytes(32).toString('hex'),
  nodeArgs: process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [],
});
try {
  console.log(
    `bench:import: ${USERS.toLocaleString('en')} users per run, streamed in requests of ${REQUEST_USERS.toLocaleString('en')} users, batches of ${BATCH_SIZE} rows per INSERT; ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start`,
  );
  await run(server, database.name, adminToken, 'plain', false);
  await run(server, database.name, adminToken, 'bcrypt hashes', true);
} finally {
  await server.stop();
  await database.drop();
  code.remove();
}
