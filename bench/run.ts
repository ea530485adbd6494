/**
 * npm run bench — Tarn against bare node-oidc-provider, same machine, same run
 * (docs/design.md#performance). A benchmark, never part of `npm test`.
 *
 * Tarn runs as an operator runs it (`node --import tsx src/main.ts`, NODE_ENV=production,
 * on a fresh PostgreSQL database of its own, dropped at the end); bare oidc-provider runs
 * from bench/bare-provider.ts with the in-memory adapter and the same client. Per scenario
 * the two servers are loaded one after the other, never together (they would share the
 * cores), with the same connections and duration: autocannon for fixed requests, a loop
 * of N concurrent workers for flows where each request differs (refresh-token rotation,
 * whole sign-ins).
 *
 * A third server, bare+PG, is bare oidc-provider with its artifacts in PostgreSQL through Tarn's own
 * artifact storage (or, BENCH_BARE_POSTGRES=plain, the plain adapter of bare-postgres-adapter.ts):
 * the client-credentials target is measured against it (ADR 0707), the other targets against
 * the in-memory one.
 *
 * Environment: BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_WARMUP (2), BENCH_CONNECTIONS (10),
 * BENCH_SIGNIN_WORKERS (4), BENCH_ONLY (comma-separated scenario keys), BENCH_BARE_POSTGRES
 * (0 leaves the third server out, plain gives it the plain adapter),
 * PASSWORD_HASH_CONCURRENCY (Tarn's default: cores − 1; passed to Tarn and used for the raw argon2 figure).
 */
import argon2 from 'argon2';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defaults } from '../config/defaults.js';
import { ARGON2_PARAMS } from '../src/users/password.js';
import {
  BARE_STORAGE,
  bareClientMetadata,
  basicAuth,
  buildForBench,
  CookieJar,
  createBenchDatabase,
  envInt,
  fmt,
  machine,
  median,
  postgresCpuMs,
  request,
  runAutocannon,
  runLoop,
  startBare,
  startTarn,
  table,
  trackDatabaseBackendsCpu,
  type Measured,
  type ServerProcess,
} from './lib.js';
import { admin, REDIRECT_URI, signIn, type SignInTarget, type Worker } from './flows.js';

const SECONDS = envInt('BENCH_SECONDS', 10);
const WARMUP = envInt('BENCH_WARMUP', 2);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const SIGNIN_WORKERS = envInt('BENCH_SIGNIN_WORKERS', 4);
const WIDE_SIGNIN_WORKERS = envInt('BENCH_SIGNIN_WORKERS_WIDE', 16);
// Tarn's own default unless set (one hash per core but one, ADR 0704).
const HASH_CONCURRENCY = envInt('PASSWORD_HASH_CONCURRENCY', defaults.PASSWORD_HASH_CONCURRENCY);
const WITH_BARE_POSTGRES = process.env.BENCH_BARE_POSTGRES !== '0';
const ONLY = process.env.BENCH_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const root = fileURLToPath(new URL('..', import.meta.url));

async function refresh(target: Target, worker: Worker): Promise<void> {
  const response = await request('POST', target.meta.token_endpoint!, {
    headers: { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: worker.refresh! }).toString(),
  });
  if (response.status !== 200) throw new Error(`${target.name} refresh ${response.status}: ${response.body}`);
  const tokens = JSON.parse(response.body) as { access_token: string; refresh_token: string };
  worker.refresh = tokens.refresh_token;
}

interface Target extends SignInTarget {
  name: 'Tarn' | 'bare' | 'bare+PG';
  server: ServerProcess;
  /** Its PostgreSQL database (Tarn, bare+PG). */
  database?: string;
  discovery: string;
  workers: Worker[];
}

type Scenario = { key: string; label: string; needsTokens?: boolean; run(target: Target, seconds: number): Promise<Measured> };

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const scenarios: Scenario[] = [
  { key: 'discovery', label: 'discovery', run: (t, s) => runAutocannon({ url: t.discovery }, CONNECTIONS, s) },
  { key: 'jwks', label: 'JWKS', run: (t, s) => runAutocannon({ url: t.meta.jwks_uri! }, CONNECTIONS, s) },
  {
    key: 'cc',
    label: 'client-credentials token',
    run: (t, s) =>
      runAutocannon(
        {
          url: t.meta.token_endpoint!,
          method: 'POST',
          headers: { ...form, authorization: basicAuth(t.clientId, t.clientSecret) },
          body: 'grant_type=client_credentials',
        },
        CONNECTIONS,
        s,
      ),
  },
  { key: 'refresh', needsTokens: true, label: `refresh-token grant (${CONNECTIONS} workers)`, run: (t, s) => runLoop(t.workers, s, (w) => refresh(t, w)) },
  {
    key: 'introspection',
    needsTokens: true,
    label: 'introspection',
    run: (t, s) =>
      runAutocannon(
        {
          url: t.meta.introspection_endpoint!,
          method: 'POST',
          headers: { ...form, authorization: basicAuth(t.clientId, t.clientSecret) },
          body: `token=${t.workers[0]!.access}`,
        },
        CONNECTIONS,
        s,
      ),
  },
  {
    key: 'userinfo',
    needsTokens: true,
    label: 'userinfo',
    run: (t, s) => runAutocannon({ url: t.meta.userinfo_endpoint!, headers: { authorization: `Bearer ${t.workers[0]!.access}` } }, CONNECTIONS, s),
  },
  {
    key: 'signin',
    needsTokens: true,
    label: `sign-in: login post → remembered consent → code exchange (${SIGNIN_WORKERS} workers)`,
    run: (t, s) => runLoop(t.workers.slice(0, SIGNIN_WORKERS), s, (w) => signIn(t, w, true)),
  },
  // A new browser every time: authorization request → login page → login form post → consent
  // (bare: its page, every time; Tarn: remembered per user since the first sign-in) → code → code exchange.
  ...[SIGNIN_WORKERS, WIDE_SIGNIN_WORKERS].map((workers): Scenario => ({
    key: workers === SIGNIN_WORKERS ? 'signin-new' : 'signin-new-wide',
    needsTokens: true,
    label: `sign-in, new browser: authorize → login form → consent → code → token (${workers} workers)`,
    run: (t, s) => runLoop(t.workers.slice(0, workers), s, (w) => signIn(t, { ...w, jar: new CookieJar() }, false)),
  })),
];

/** argon2id verifications per second at Tarn's parameters, `concurrency` at a time (Tarn's hasher bound). */
async function rawArgon2(seconds: number, concurrency: number): Promise<Measured> {
  const hash = await argon2.hash('bench-password-1', ARGON2_PARAMS);
  return runLoop(
    Array.from({ length: concurrency }, () => 0),
    seconds,
    async () => {
      if (!(await argon2.verify(hash, 'bench-password-1'))) throw new Error('argon2 verify failed');
    },
  );
}

/** Every worker signs in (consent given once and remembered in its session) and keeps its tokens. */
async function prepare(target: Target): Promise<void> {
  await Promise.all(target.workers.map((worker) => signIn(target, worker, false)));
}

async function main() {
  const load = machine();
  const code = buildForBench(root);
  const database = await createBenchDatabase();
  const bareDatabase = WITH_BARE_POSTGRES ? await createBenchDatabase('bare_bench') : undefined;
  const servers: ServerProcess[] = [];
  try {
    const adminToken = `bench-${randomBytes(16).toString('hex')}`;
    const tarn = await startTarn('Tarn', code.script('src/main.ts'), {
      databaseUrl: database.url,
      adminToken,
      masterKey: randomBytes(32).toString('hex'),
      env: { PASSWORD_HASH_CONCURRENCY: String(HASH_CONCURRENCY) },
      // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile Tarn under the benchmark's load
      nodeArgs: process.env.BENCH_TARN_NODE_ARGS?.split(' ').filter(Boolean),
    });
    servers.push(tarn);

    // A pool, an application allowed every grant the scenarios use, one user per worker.
    const pool = await admin(tarn.url, adminToken, 'POST', '/pools', { id: 'bench', name: 'Bench' });
    const app = await admin(tarn.url, adminToken, 'POST', '/pools/bench/clients', {
      name: 'Bench App',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    const workerCount = Math.max(CONNECTIONS, SIGNIN_WORKERS, WIDE_SIGNIN_WORKERS);
    const users: { id: string; email: string; password: string }[] = [];
    for (let i = 0; i < workerCount; i += 1) {
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const created = await admin(tarn.url, adminToken, 'POST', '/pools/bench/users', {
        email: `user${i}@bench.test`,
        mode: 'password',
        password,
        emailVerified: true,
      });
      users.push({ id: created.id as string, email: created.email as string, password });
    }

    const bareOptions = {
      client: bareClientMetadata(app),
      users: JSON.stringify(users.length ? users : [{ id: randomUUID(), email: 'x@bench.test', password: 'x' }]),
      nodeArgs: process.env.BENCH_BARE_NODE_ARGS?.split(' ').filter(Boolean),
    };
    const bare = await startBare('bare', code.script('bench/bare-provider.ts'), bareOptions);
    servers.push(bare);
    const barePostgres = bareDatabase
      ? await startBare('bare+PG', code.script('bench/bare-provider.ts'), { ...bareOptions, databaseUrl: bareDatabase.url })
      : undefined;
    if (barePostgres) servers.push(barePostgres);

    // Idle: every server started, its users' passwords hashed (Tarn: through its admin API; bare: at start), no load yet.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleRss = `idle RSS before any load: Tarn ${fmt(tarn.rssMiB())} MiB, bare ${fmt(bare.rssMiB())} MiB (${fmt(tarn.rssMiB() / bare.rssMiB(), 2)}×)${barePostgres ? `, bare+PG ${fmt(barePostgres.rssMiB())} MiB` : ''}`;
    const targets: Target[] = [];
    const servedBy: [Target['name'], ServerProcess, string, string | undefined][] = [
      ['Tarn', tarn, `${pool.issuer}/.well-known/openid-configuration`, database.name],
      ['bare', bare, `${bare.url}/.well-known/openid-configuration`, undefined],
    ];
    if (barePostgres) servedBy.push(['bare+PG', barePostgres, `${barePostgres.url}/.well-known/openid-configuration`, bareDatabase!.name]);
    for (const [name, server, discovery, databaseName] of servedBy) {
      const meta = JSON.parse((await request('GET', discovery)).body) as Record<string, string>;
      const target: Target = {
        name,
        server,
        ...(databaseName ? { database: databaseName } : {}),
        discovery,
        meta,
        clientId: app.clientId,
        clientSecret: app.secret.value as string,
        workers: users.map((user) => ({ jar: new CookieJar(), user })),
      };
      await prepare(target);
      const introspected = await request('POST', meta.introspection_endpoint!, {
        headers: { ...form, authorization: basicAuth(app.clientId, app.secret.value) },
        body: `token=${target.workers[0]!.access}`,
      });
      if (!introspected.body.includes('"active":true')) throw new Error(`${name}: introspection says inactive: ${introspected.body}`);
      targets.push(target);
    }

    process.stdout.write(
      `\nTarn vs bare oidc-provider — ${SECONDS}s per scenario and server in ${ROUNDS} alternating rounds (after ${WARMUP}s warm-up), ${CONNECTIONS} connections\n${load}\n\n`,
    );
    const rows: string[][] = [];
    const wantsHashes = !ONLY || ONLY.includes('argon2');
    // Raw argon2 rounds alternate with the sign-in rounds (Tarn, bare, raw, Tarn …), so the
    // sign-ins/hashes ratio compares the same minutes of a machine whose speed drifts.
    const hashRounds: Measured[] = [];
    for (const scenario of scenarios) {
      if (ONLY && !ONLY.includes(scenario.key)) continue;
      // Rounds alternate the servers (Tarn, bare, Tarn, bare …) so a shared machine's drifting
      // load falls on both alike; each server gets BENCH_SECONDS in all. Medians of the rounds.
      const perServer: { rounds: Measured[]; cpuMs: number; dbCpuMs: number; serverDbCpuMs: number; requests: number }[] = targets.map(() => ({
        rounds: [],
        cpuMs: 0,
        dbCpuMs: 0,
        serverDbCpuMs: 0,
        requests: 0,
      }));
      for (const target of targets) {
        // Bare oidc-provider's in-memory adapter is an LRU of 1,000 entries: the token
        // scenarios before evict its sessions and grants. Fresh ones for every scenario
        // that needs them (not timed), on both servers alike.
        if (scenario.needsTokens) await prepare(target);
        await scenario.run(target, WARMUP);
      }
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const [i, target] of targets.entries()) {
          const ownDb = target.database ? trackDatabaseBackendsCpu(target.database) : undefined;
          await ownDb?.ready;
          const cpuBefore = target.server.cpuMs();
          const dbCpuBefore = postgresCpuMs();
          const result = await scenario.run(target, SECONDS / ROUNDS);
          perServer[i]!.cpuMs += target.server.cpuMs() - cpuBefore;
          perServer[i]!.serverDbCpuMs += postgresCpuMs() - dbCpuBefore;
          perServer[i]!.dbCpuMs += ownDb ? await ownDb.stop() : 0;
          perServer[i]!.requests += result.rps * (SECONDS / ROUNDS);
          perServer[i]!.rounds.push(result);
        }
        if (scenario.key === 'signin' && wantsHashes) hashRounds.push(await rawArgon2(SECONDS / ROUNDS, HASH_CONCURRENCY));
      }
      const results = perServer.map(({ rounds }) => ({
        rps: median(rounds.map((r) => r.rps)),
        p50: median(rounds.map((r) => r.p50)),
        p99: median(rounds.map((r) => r.p99)),
        failures: rounds.reduce((sum, r) => sum + r.failures, 0),
      }));
      const cpu = perServer.map(({ cpuMs, requests }) => cpuMs / requests);
      const dbCpu = perServer.map(({ dbCpuMs, requests }) => dbCpuMs / requests);
      const serverDbCpu = perServer.map(({ serverDbCpuMs, requests }) => serverDbCpuMs / requests);
      const [t, b, p] = results as [Measured, Measured, Measured | undefined];
      const failures =
        t.failures + b.failures + (p?.failures ?? 0) ? ` (failures: Tarn ${t.failures}, bare ${b.failures}${p ? `, bare+PG ${p.failures}` : ''})` : '';
      const rps = (m: Measured) => fmt(m.rps, m.rps < 100 ? 1 : 0);
      rows.push([
        scenario.label + failures,
        ...[
          rps(t),
          fmt(t.p50, 1),
          fmt(t.p99, 1),
          rps(b),
          fmt(b.p50, 1),
          fmt(b.p99, 1),
          `${fmt((100 * t.rps) / b.rps)} %`,
          fmt(cpu[0]!, 3),
          fmt(dbCpu[0]!, 3),
          fmt(serverDbCpu[0]!, 3),
          fmt(cpu[1]!, 3),
          fmt(cpu[0]! / cpu[1]!, 2),
        ],
        ...(p ? [rps(p), `${fmt((100 * t.rps) / p.rps)} %`, fmt(cpu[2]!, 3), fmt(dbCpu[2]!, 3)] : []),
      ]);
      process.stdout.write(`  ${scenario.key}: Tarn ${fmt(t.rps)}/s, bare ${fmt(b.rps)}/s${p ? `, bare+PG ${fmt(p.rps)}/s` : ''}\n`);
    }
    const hashes = !wantsHashes
      ? undefined
      : hashRounds.length
        ? { rps: median(hashRounds.map((r) => r.rps)), p50: median(hashRounds.map((r) => r.p50)) }
        : await rawArgon2(SECONDS, HASH_CONCURRENCY);

    const headings = [
      'scenario',
      'Tarn req/s',
      'Tarn p50 ms',
      'Tarn p99 ms',
      'bare req/s',
      'bare p50 ms',
      'bare p99 ms',
      'Tarn / bare',
      'Tarn CPU ms/req',
      "PostgreSQL CPU ms/req (Tarn's backends)",
      'all PostgreSQL processes CPU ms/req',
      'bare CPU ms/req',
      'Tarn ÷ bare CPU',
    ];
    if (barePostgres) headings.push('bare+PG req/s', 'Tarn / bare+PG', 'bare+PG CPU ms/req', 'bare+PG PostgreSQL CPU ms/req');
    process.stdout.write('\n' + table(headings, rows) + '\n');
    if (barePostgres)
      process.stdout.write(
        `\nbare+PG stores its artifacts through ${BARE_STORAGE === 'plain' ? 'the plain adapter (bench/bare-postgres-adapter.ts)' : "Tarn's artifact storage (src/oidc/adapter.ts)"}\n`,
      );
    if (hashes) {
      const signInRow = rows.find((row) => row[0]!.startsWith('sign-in:'));
      const signIns = signInRow ? Number(signInRow[1]!.replace(/,/g, '')) : NaN;
      process.stdout.write(
        `\nraw argon2id verifications/s at Tarn's parameters (m=${ARGON2_PARAMS.memoryCost} KiB, t=${ARGON2_PARAMS.timeCost}, p=${ARGON2_PARAMS.parallelism}), ` +
          `${HASH_CONCURRENCY} at a time${hashRounds.length ? `, in rounds alternating with the sign-in rounds` : ''}: ${fmt(hashes.rps, 1)}/s (p50 ${fmt(hashes.p50, 1)} ms)` +
          (Number.isFinite(signIns) ? `; Tarn password sign-ins/s: ${fmt(signIns, 1)} = ${fmt((100 * signIns) / hashes.rps)} % of raw hashes/s\n` : '\n'),
      );
    }
    process.stdout.write(`${idleRss}\n`);
    process.stdout.write(`Tarn RSS after the run: ${fmt(tarn.rssMiB())} MiB; bare: ${fmt(bare.rssMiB())} MiB\n`);
  } finally {
    for (const server of servers) await server.stop();
    await database.drop();
    await bareDatabase?.drop();
    code.remove();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
