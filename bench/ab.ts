/**
 * npm run bench:ab — client-credentials tokens from variants of Tarn side by side, to tell
 * whether a change helps on a machine whose speed drifts by ± 25 % from minute to minute
 * (a benchmark, never part of `npm test`).
 *
 * Every variant is a Tarn process of its own on one shared database and pool (so each pays
 * the same rows; each serves an admin request before it is measured), plus bare oidc-provider
 * as the yardstick. Rounds are short and alternate the servers, the order reversed every
 * other round, so a slow minute falls on all of them;
 * each round's CPU per token comes from /proc. Prints per variant the median and the
 * least-disturbed (minimum) CPU per token, PostgreSQL's CPU per token, and tokens/s as a
 * share of bare's in the same round.
 *
 * BENCH_AB (JSON): variant name → its settings, all optional:
 *   env    extra environment (e.g. a switch read by a throw-away edit)
 *   root   another checkout to build and run (e.g. a `git worktree` of the commit before)
 *   args   node arguments (e.g. "--max-semi-space-size=32")
 *   sql    SQL run on the shared database before each of its rounds; with `same`, the
 *          variant reuses another's server (e.g. a constraint dropped and added back)
 *   same   the name of an earlier variant whose server this one reuses
 * Default: {"Tarn":{}}. BENCH_AB_SCENARIO=signin measures password sign-ins from a new browser instead
 * (authorization request, login form, consent, code, code exchange; BENCH_SIGNIN_WORKERS loops, 4), with
 * the CPU of the shared database's backends per sign-in. Also BENCH_ROUNDS (12), BENCH_SECONDS (1.5 per round and server),
 * BENCH_CONNECTIONS (10), BENCH_BARE (0 leaves bare out), BENCH_BARE_POSTGRES (1 adds bare+PG with
 * Tarn's artifact storage, plain with the plain adapter; run.ts has it by default).
 *
 * Example (the commit before against this one):
 *   git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/
 *   BENCH_AB='{"before":{"root":"/tmp/before"},"after":{}}' npm run bench:ab
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { admin, clientCredentialsApp, clientCredentialsHeaders, signIn, type Worker } from './flows.js';
import {
  bareClientMetadata,
  buildsOnce,
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
  type BenchDatabase,
  type ServerProcess,
  type TarnVariant,
  variantsFromEnv,
} from './lib.js';

interface Variant extends TarnVariant {
  sql?: string;
  same?: string;
}

interface Target {
  name: string;
  server: ServerProcess;
  tokenEndpoint: string;
  /** Where its sign-ins start: the issuer's discovery document (BENCH_AB_SCENARIO=signin). */
  discovery: string;
  database?: string | undefined;
  sql?: string | undefined;
}

const variants = variantsFromEnv<Variant>();
const ROUNDS = envInt('BENCH_ROUNDS', 12);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const root = fileURLToPath(new URL('..', import.meta.url));
const SIGN_IN = process.env.BENCH_AB_SCENARIO === 'signin';
const SIGNIN_WORKERS = envInt('BENCH_SIGNIN_WORKERS', 4);

async function main() {
  const load = machine();
  const { build, removeAll } = buildsOnce();
  const database = await createBenchDatabase('tarn_ab');
  const sql = new pg.Client({ connectionString: database.url });
  const servers: ServerProcess[] = [];
  let bareDatabase: BenchDatabase | undefined;
  try {
    const adminToken = `bench-${randomBytes(16).toString('hex')}`;
    const masterKey = randomBytes(32).toString('hex');
    let app: Record<string, unknown> | undefined;
    const targets: Target[] = [];
    for (const [name, variant] of Object.entries(variants)) {
      if (variant.same) {
        const other = targets.find((target) => target.name === variant.same);
        if (!other) throw new Error(`${name}: no earlier variant "${variant.same}"`);
        targets.push({ ...other, name, sql: variant.sql });
        continue;
      }
      const server = await startTarn(name, build(variant.root ?? root).script('src/main.ts'), {
        databaseUrl: database.url,
        adminToken,
        masterKey,
        ...(variant.env ? { env: variant.env } : {}),
        nodeArgs: variant.args?.split(' ').filter(Boolean),
      });
      servers.push(server);
      app = await clientCredentialsApp(server.url, adminToken, app, SIGN_IN ? ['authorization_code', 'refresh_token', 'client_credentials'] : undefined);
      targets.push({
        name,
        server,
        tokenEndpoint: `${server.url}/pools/bench/token`,
        discovery: `${server.url}/pools/bench/.well-known/openid-configuration`,
        database: database.name,
        sql: variant.sql,
      });
    }
    if (!app) throw new Error('BENCH_AB names no variant');
    // Sign-ins: one user per worker, made through the first variant (every variant shares the database); bare gets the same.
    const users: { id: string; email: string; password: string }[] = [];
    for (let i = 0; SIGN_IN && i < SIGNIN_WORKERS; i += 1) {
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const created = await admin(servers[0]!.url, adminToken, 'POST', '/pools/bench/users', {
        email: `user${i}@bench.test`,
        mode: 'password',
        password,
        emailVerified: true,
      });
      users.push({ id: created.id as string, email: created.email as string, password });
    }
    const bareUsers = users.length ? { users: JSON.stringify(users) } : {};
    const bareScript = build(root).script('bench/bare-provider.ts');
    if (process.env.BENCH_BARE !== '0') {
      const bare = await startBare('bare', bareScript, { client: bareClientMetadata(app), ...bareUsers });
      servers.push(bare);
      targets.push({ name: 'bare', server: bare, tokenEndpoint: `${bare.url}/token`, discovery: `${bare.url}/.well-known/openid-configuration` });
    }
    if (process.env.BENCH_BARE_POSTGRES === '1' || process.env.BENCH_BARE_POSTGRES === 'plain') {
      bareDatabase = await createBenchDatabase('bare_ab');
      const barePostgres = await startBare('bare+PG', bareScript, {
        client: bareClientMetadata(app),
        databaseUrl: bareDatabase.url,
        ...bareUsers,
      });
      servers.push(barePostgres);
      targets.push({
        name: 'bare+PG',
        server: barePostgres,
        tokenEndpoint: `${barePostgres.url}/token`,
        discovery: `${barePostgres.url}/.well-known/openid-configuration`,
        database: bareDatabase.name,
      });
    }

    await sql.connect();
    // Transaction ids the server has handed out so far (exact, unlike the statistics views, which
    // backends report up to a second late): every artifact write statement takes one.
    const transactionIds = async () => Number((await sql.query<{ n: string }>('select pg_snapshot_xmax(pg_current_snapshot())::text as n')).rows[0]!.n);
    const headers = clientCredentialsHeaders(app);
    const scenario = (target: Target) => ({ url: target.tokenEndpoint, method: 'POST' as const, headers, body: 'grant_type=client_credentials' });
    const signInTargets = new Map<string, { meta: Record<string, string>; clientId: string; clientSecret: string }>();
    const workers: Worker[] = users.map((user) => ({ jar: new CookieJar(), user }));
    // What one round runs: client-credentials tokens, or whole sign-ins from a new browser (each its own cookie jar).
    const drive = async (target: Target, seconds: number) => {
      if (!SIGN_IN) return runAutocannon(scenario(target), CONNECTIONS, seconds);
      const signInTarget = signInTargets.get(target.name)!;
      return runLoop(workers, seconds, (worker) => signIn(signInTarget, { ...worker, jar: new CookieJar() }, false));
    };
    for (const target of targets) {
      const answer = await request('POST', target.tokenEndpoint, { headers, body: 'grant_type=client_credentials' });
      if (answer.status !== 200) throw new Error(`${target.name}: ${answer.status} ${answer.body}`);
      if (SIGN_IN) {
        const meta = JSON.parse((await request('GET', target.discovery)).body) as Record<string, string>;
        signInTargets.set(target.name, { meta, clientId: app.clientId as string, clientSecret: (app.secret as { value: string }).value });
        // every worker's consent given once, as in npm run bench
        for (const worker of workers) await signIn(signInTargets.get(target.name)!, { ...worker, jar: new CookieJar() }, false);
      }
      if (target.sql) await sql.query(target.sql);
      await drive(target, 1);
    }

    const measured = new Map(
      targets.map((target) => [target.name, { rps: [] as number[], cpu: [] as number[], db: [] as number[], perStatement: [] as number[] }]),
    );
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const target of round % 2 ? [...targets].reverse() : targets) {
        if (target.sql) await sql.query(target.sql);
        // Sign-ins: the CPU of the database's own backends (the variants share it, and only one is loaded at a time).
        const backends = SIGN_IN && target.database ? trackDatabaseBackendsCpu(target.database) : undefined;
        await backends?.ready;
        const cpuBefore = target.server.cpuMs();
        const dbBefore = postgresCpuMs();
        const idsBefore = await transactionIds();
        const result = await drive(target, SECONDS);
        const tokens = result.rps * SECONDS;
        const entry = measured.get(target.name)!;
        entry.rps.push(result.rps);
        entry.cpu.push(((target.server.cpuMs() - cpuBefore) * 1000) / tokens);
        // (bare's in-memory sign-ins have no database: shown as –)
        const dbMs = backends ? await backends.stop() : SIGN_IN ? NaN : postgresCpuMs() - dbBefore;
        entry.db.push((dbMs * 1000) / tokens);
        // (bare's in-memory rounds write nothing: shown as –)
        const statements = (await transactionIds()) - idsBefore;
        entry.perStatement.push(statements > 0 ? tokens / statements : NaN);
      }
    }

    const bare = measured.get('bare');
    const rows = [...measured].map(([name, { rps, cpu, db, perStatement }]) => {
      const batches = perStatement.filter(Number.isFinite);
      const shares = bare ? rps.map((value, round) => (100 * value) / bare.rps[round]!) : [];
      return [
        name,
        fmt(median(rps)),
        fmt(median(cpu), 1),
        fmt(Math.min(...cpu), 1),
        Number.isNaN(median(db)) ? '–' : fmt(median(db), 1),
        batches.length * 2 > perStatement.length ? fmt(median(batches), 1) : '–',
        bare ? `${fmt(median(shares))} % (${fmt(Math.min(...shares))}–${fmt(Math.max(...shares))})` : '',
      ];
    });
    const unit = SIGN_IN ? 'sign-in' : 'token';
    const what = SIGN_IN ? `password sign-ins from a new browser (${SIGNIN_WORKERS} workers)` : 'client-credentials tokens';
    process.stdout.write(`\n${what}, ${ROUNDS} alternating rounds of ${SECONDS}s per server, ${CONNECTIONS} connections\n${load}\n\n`);
    process.stdout.write(
      table(
        [
          'variant',
          `${unit}s/s (median)`,
          `CPU µs/${unit} (median)`,
          `CPU µs/${unit} (min)`,
          SIGN_IN ? `PostgreSQL CPU µs/${unit} (the database's backends)` : `PostgreSQL CPU µs/${unit}`,
          `${unit}s per statement`,
          `${unit}s/s ÷ bare, same round`,
        ],
        rows,
      ) + '\n',
    );
  } finally {
    await sql.end().catch(() => {});
    for (const server of servers) await server.stop();
    await database.drop();
    await bareDatabase?.drop();
    removeAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:ab failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
