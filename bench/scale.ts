/**
 * npm run bench:scale — does Tarn stay fast as pools and users grow? (issue 7)
 *
 * Seeds a fresh PostgreSQL database straight through SQL set operations (minutes, not
 * hours), first to 100 pools / 10,000 users, then on to 10,000 pools / 1,000,000 users,
 * and at each size starts Tarn (PROVIDER_CACHE_SIZE small, 200) and measures:
 *   - discovery of a cold pool (the first request after start, then pools never touched:
 *     each one a provider build) and of a warm pool (p50 of sequential requests);
 *   - user lookup by email through the admin API (GET /admin/pools/{pool}/users?email=);
 *   - sign-in: the login form post, inside whole sign-ins;
 *   - the process RSS as more pools than the LRU holds are touched;
 *   - the plans of the hot queries (EXPLAIN ANALYZE), to show index scans, no seq scans.
 *
 * How the seed stays fast and still realistic:
 *   - pools, secrets and users are INSERT … SELECT generate_series;
 *   - every user has a real argon2id hash at Tarn's parameters, but the SAME one (one
 *     precomputed hash of BENCH_PASSWORD): a hash costs ~25 ms of CPU, a million of them
 *     would take hours, and a lookup or a verification costs the same whatever the hash;
 *   - each pool gets Tarn's key set (RS256 and ES256, current and next). Generating RSA keys
 *     is what makes createPool slow, so four key pairs are generated once; each pool gets a
 *     copy with its own kid, sealed for that pool (the envelope binds
 *     "signing-key:{pool}:{kid}", so a sealed key cannot be shared between pools; sealing
 *     is a cheap AES-GCM);
 *   - one pool in ten users' worth is concentrated in pool-00000 (1,000 then 100,000 users)
 *     so lookups are measured in a big pool as well as in ordinary ones.
 *
 * Environment: BENCH_SECONDS (5, per measured loop), PROVIDER_CACHE_SIZE (200),
 * BENCH_TOUCH_POOLS (1,000), BENCH_SCALES ("100:10000,10000:1000000": pools:users).
 */
import argon2 from 'argon2';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createEnvelope } from '../src/crypto/envelope.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { ARGON2_PARAMS } from '../src/users/password.js';
import { admin, signIn, type Worker } from './flows.js';
import { CookieJar, createBenchDatabase, envInt, fmt, freePort, machine, request, runLoop, startServer, table, type Measured, type ServerProcess } from './lib.js';

const SECONDS = envInt('BENCH_SECONDS', 5);
const CACHE_SIZE = envInt('PROVIDER_CACHE_SIZE', 200);
const TOUCH = envInt('BENCH_TOUCH_POOLS', 1000);
const SCALES = (process.env.BENCH_SCALES ?? '100:10000,10000:1000000').split(',').map((pair) => {
  const [pools, users] = pair.split(':').map(Number);
  return { pools: pools!, users: users! };
});
const PASSWORD = 'bench-password-1';
const BIG_POOL = 'pool-00000';
const root = fileURLToPath(new URL('..', import.meta.url));

const poolId = (i: number) => `pool-${String(i).padStart(5, '0')}`;
const log = (line: string) => process.stdout.write(`${line}\n`);

interface KeyMaterial {
  alg: 'RS256' | 'ES256';
  status: 'current' | 'next';
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
}

async function keyMaterial(): Promise<KeyMaterial[]> {
  const material: KeyMaterial[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    for (const status of ['current', 'next'] as const) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
      material.push({ alg, status, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) });
    }
  }
  return material;
}

/** Pools [from, to): rows, two API secrets each (hashes), four signing keys each, sealed per pool. */
async function seedPools(client: pg.Client, seal: (plain: string, context: string) => string, keys: KeyMaterial[], from: number, to: number) {
  await client.query(
    `insert into pools (id, name, sign_in, password_policy, lockout)
     select format('pool-%s', lpad(i::text, 5, '0')), format('Pool %s', i),
            '{"password": true, "emailCode": false, "passkey": false}', '{"minLength": 8}', '{"maxAttempts": 5, "windowSeconds": 900}'
     from generate_series($1::int, $2::int - 1) as i`,
    [from, to],
  );
  await client.query(
    `insert into pool_secrets (pool_id, id, status, secret_hash)
     select p.id, format('sec_%s_%s', p.id, s.status), s.status, encode(sha256(convert_to(p.id || s.status || random()::text, 'UTF8')), 'base64')
     from pools p cross join (values ('current'), ('next')) as s(status)
     where p.id >= $1 and p.id < $2`,
    [poolId(from), poolId(to)],
  );
  const batch = 1000;
  for (let start = from; start < to; start += batch) {
    const columns: string[][] = [[], [], [], [], [], []];
    for (let i = start; i < Math.min(to, start + batch); i += 1) {
      const pool = poolId(i);
      for (const key of keys) {
        const kid = randomBytes(12).toString('base64url');
        const privateJwk = { ...key.privateJwk, kid, alg: key.alg, use: 'sig' };
        const publicJwk = { ...key.publicJwk, kid, alg: key.alg, use: 'sig' };
        const row = [pool, kid, key.alg, key.status, JSON.stringify(publicJwk), seal(JSON.stringify(privateJwk), `signing-key:${pool}:${kid}`)];
        row.forEach((value, c) => columns[c]!.push(value));
      }
    }
    await client.query(
      `insert into signing_keys (pool_id, kid, alg, status, public_jwk, private_jwk_enc, activated_at)
       select p, k, a, s, j::jsonb, e, case when s = 'current' then now() end
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as t(p, k, a, s, j, e)`,
      columns,
    );
  }
}

/** Users [from, to): one in ten in pool-00000, the rest spread over every pool; all share one argon2id hash. */
async function seedUsers(client: pg.Client, hash: string, from: number, to: number, pools: number) {
  const batch = 250_000;
  for (let start = from; start < to; start += batch) {
    await client.query(
      `insert into users (pool_id, id, email, email_verified, status, password_hash)
       select case when i % 10 = 0 then 'pool-00000' else format('pool-%s', lpad((i % $3::int)::text, 5, '0')) end,
              gen_random_uuid(), format('user%s@example.test', i), true, 'active', $4
       from generate_series($1::int, $2::int - 1) as i`,
      [start, Math.min(to, start + batch), pools, hash],
    );
  }
}

interface Measurement {
  seedSeconds: number;
  firstDiscoveryMs: number;
  cold: Measured;
  warm: Measured;
  lookupBig: Measured;
  lookupSmall: Measured;
  signIn: Measured;
  loginPost: { p50: number; p99: number };
  rss: { touched: number; mib: number }[];
  plans: string[];
}

async function timed(url: string): Promise<number> {
  const t0 = performance.now();
  const response = await request('GET', url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return performance.now() - t0;
}

function summarise(latencies: number[]): Measured {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return { rps: NaN, p50: at(50), p99: at(99), failures: 0 };
}

async function explainHotQueries(client: pg.Client, pools: number, users: number): Promise<string[]> {
  const { rows } = await client.query<{ id: string; email: string }>(`select id, email from users where pool_id = $1 limit 1`, [poolId(pools - 1)]);
  const artifact = await client.query<{ pool_id: string; model: string; id: string }>(`select pool_id, model, id from oidc_artifacts limit 1`);
  const a = artifact.rows[0] ?? { pool_id: BIG_POOL, model: 'Session', id: 'none' };
  const queries: [string, string][] = [
    ['user by email (login, admin lookup)', `select * from users where pool_id = '${BIG_POOL}' and lower(email) = 'user${users - 10}@example.test'`],
    ['admin list ?email=', `select * from users where pool_id = '${BIG_POOL}' and lower(email) = 'user${users - 10}@example.test' order by id limit 51`],
    ['user by id (findAccount)', `select * from users where pool_id = '${poolId(pools - 1)}' and id = '${rows[0]?.id ?? '00000000-0000-0000-0000-000000000000'}'`],
    ['artifact by id', `select payload, consumed_at, expires_at from oidc_artifacts where pool_id = '${a.pool_id}' and model = '${a.model}' and id = '${a.id}' and (expires_at is null or expires_at > now())`],
    ['signing keys of a pool (provider build)', `select * from signing_keys where pool_id = '${poolId(pools - 1)}' order by created_at desc, kid`],
    ['pool version (freshness check)', `select version from pools where id = '${poolId(pools - 1)}'`],
  ];
  const out: string[] = [];
  for (const [label, query] of queries) {
    const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${query}`);
    const lines = plan.rows.map((row) => row['QUERY PLAN']);
    const scan = lines.find((line) => /Scan/.test(line))?.trim().replace(/\s+\(cost=.*$/, '') ?? lines[0]!;
    const time = lines.find((line) => line.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '';
    out.push(`  ${label}: ${scan.replace(/^->\s*/, '')} (${time})`);
  }
  return out;
}

async function measure(databaseUrl: string, masterKeyHex: string, client: pg.Client, pools: number, users: number, seededFrom: number): Promise<Omit<Measurement, 'seedSeconds'>> {
  const port = await freePort();
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  const tarn: ServerProcess = await startServer(
    'Tarn',
    `${root}src/main.ts`,
    {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TARN_ADMIN_TOKEN: adminToken,
      TARN_MASTER_KEY: masterKeyHex,
      PROVIDER_CACHE_SIZE: String(CACHE_SIZE),
    },
    port,
    '/healthz',
  );
  try {
    const discovery = (i: number) => `${tarn.url}/pools/${poolId(i)}/.well-known/openid-configuration`;
    // Cold: the very first pool request after start, then pools never touched before.
    const firstDiscoveryMs = await timed(discovery(1));
    const coldPools = Array.from({ length: Math.min(50, pools - 2) }, (_, k) => 2 + Math.floor(((pools - 2) * k) / Math.min(50, pools - 2)));
    const coldLatencies: number[] = [];
    for (const i of coldPools) coldLatencies.push(await timed(discovery(i)));
    const cold = summarise(coldLatencies);

    // Warm: one pool, sequential requests (latency, not throughput).
    const warmUrl = discovery(1);
    await runLoop([0], 1, async () => void (await timed(warmUrl)));
    const warm = await runLoop([0], SECONDS, async () => void (await timed(warmUrl)));

    // Email lookups through the admin API: the big pool, and ordinary pools.
    const lookup = async (pool: string, email: string) => {
      const response = await request('GET', `${tarn.url}/admin/pools/${pool}/users?email=${encodeURIComponent(email)}`, { headers: { authorization: `Bearer ${adminToken}` } });
      if (response.status !== 200 || !response.body.includes('"email"')) throw new Error(`lookup ${pool} ${email}: ${response.status} ${response.body.slice(0, 200)}`);
    };
    const bigUsers = Math.ceil(users / 10);
    await runLoop([0], 1, () => lookup(BIG_POOL, `user${10 * Math.floor(Math.random() * bigUsers)}@example.test`));
    const lookupBig = await runLoop([0], SECONDS, () => lookup(BIG_POOL, `USER${10 * Math.floor(Math.random() * bigUsers)}@Example.test`));
    const lookupSmall = await runLoop([0], SECONDS, async () => {
      // A user seeded in this step in an ordinary pool: i % 10 ≠ 0, pool i % pools.
      let i = seededFrom + Math.floor(Math.random() * (users - seededFrom));
      if (i % 10 === 0) i += 1;
      await lookup(poolId(i % pools), `user${i}@example.test`);
    });

    // Sign-in at the big pool: whole sign-ins, the login form post timed alone.
    const app = await admin(tarn.url, adminToken, 'POST', `/pools/${BIG_POOL}/clients`, {
      name: 'Scale App',
      redirectUris: ['http://rp.bench.test/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    const meta = JSON.parse((await request('GET', discovery(0))).body) as Record<string, string>;
    const target = { meta, clientId: app.clientId as string, clientSecret: app.clientSecret as string };
    const workers: Worker[] = [0, 1, 2, 3].map((k) => ({ jar: new CookieJar(), user: { email: `user${10 * (k + 1)}@example.test`, password: PASSWORD } }));
    await Promise.all(workers.map((worker) => signIn(target, worker, false)));
    const posts: number[] = [];
    const signInResult = await runLoop(workers, SECONDS, (worker) => signIn(target, worker, true, (ms) => posts.push(ms)));
    const loginPost = summarise(posts);

    // Memory: touch more pools than the LRU holds, 4 at a time; RSS at checkpoints.
    const rss: { touched: number; mib: number }[] = [{ touched: 0, mib: tarn.rssMiB() }];
    const limit = Math.min(TOUCH, pools);
    const checkpoints = new Set([Math.min(CACHE_SIZE, limit), Math.min(2 * CACHE_SIZE, limit), limit]);
    let next = 0;
    let touched = 0;
    const touchers = Array.from({ length: 4 }, async () => {
      while (next < limit) {
        const i = next++;
        await timed(discovery(i));
        touched += 1;
        if (checkpoints.has(touched)) rss.push({ touched, mib: tarn.rssMiB() });
      }
    });
    await Promise.all(touchers);
    rss.sort((x, y) => x.touched - y.touched);

    const plans = await explainHotQueries(client, pools, users);
    return { firstDiscoveryMs, cold, warm, lookupBig, lookupSmall, signIn: signInResult, loginPost, rss, plans };
  } finally {
    await tarn.stop();
  }
}

async function main() {
  const load = machine();
  const database = await createBenchDatabase('tarn_scale');
  const masterKey = randomBytes(32);
  const envelope = createEnvelope(masterKey);
  try {
    const handle = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
    await migrate(handle);
    await handle.close();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // Bulk loading: no need to wait for each batch's WAL flush.
    await client.query('set synchronous_commit = off');
    const keys = await keyMaterial();
    const hash = await argon2.hash(PASSWORD, ARGON2_PARAMS);

    const results: (Measurement & { pools: number; users: number })[] = [];
    let seeded = { pools: 0, users: 0 };
    for (const scale of SCALES) {
      const t0 = performance.now();
      const from = seeded.users;
      log(`seeding to ${fmt(scale.pools)} pools / ${fmt(scale.users)} users …`);
      await seedPools(client, (plain, context) => envelope.seal(plain, context), keys, seeded.pools, scale.pools);
      await seedUsers(client, hash, seeded.users, scale.users, scale.pools);
      await client.query('vacuum analyze');
      // Flush the seed's dirty pages now, so the checkpoint's writes do not land in the measurements.
      await client.query('checkpoint');
      const seedSeconds = (performance.now() - t0) / 1000;
      seeded = scale;
      log(`  seeded in ${fmt(seedSeconds, 1)} s; measuring …`);
      const measured = await measure(database.url, masterKey.toString('hex'), client, scale.pools, scale.users, from);
      results.push({ ...scale, seedSeconds, ...measured });
    }
    await client.end();

    const ms = (value: number) => fmt(value, 2);
    const head = ['measure', ...results.map((r) => `${fmt(r.pools)} pools / ${fmt(r.users)} users`)];
    const rows: string[][] = [
      ['seed time (s, this step)', ...results.map((r) => fmt(r.seedSeconds, 1))],
      ['discovery, first request after start (ms)', ...results.map((r) => ms(r.firstDiscoveryMs))],
      ['discovery, cold pool p50 / p99 (ms)', ...results.map((r) => `${ms(r.cold.p50)} / ${ms(r.cold.p99)}`)],
      ['discovery, warm pool p50 / p99 (ms)', ...results.map((r) => `${ms(r.warm.p50)} / ${ms(r.warm.p99)}`)],
      [`email lookup, ${BIG_POOL} (10 % of users) p50 / p99 (ms)`, ...results.map((r) => `${ms(r.lookupBig.p50)} / ${ms(r.lookupBig.p99)}`)],
      ['email lookup, ordinary pool p50 / p99 (ms)', ...results.map((r) => `${ms(r.lookupSmall.p50)} / ${ms(r.lookupSmall.p99)}`)],
      ['login form post p50 / p99 (ms)', ...results.map((r) => `${ms(r.loginPost.p50)} / ${ms(r.loginPost.p99)}`)],
      ['whole sign-ins/s (4 workers)', ...results.map((r) => fmt(r.signIn.rps, 1))],
      [`RSS (MiB) by pools touched, LRU ${CACHE_SIZE}`, ...results.map((r) => r.rss.map((p) => `${fmt(p.touched)}: ${fmt(p.mib)}`).join(', '))],
    ];
    if (results.length >= 2) {
      const [small, large] = [results[0]!, results[results.length - 1]!];
      const ratio = (a: number, b: number) => `${fmt(b / a, 2)}×`;
      head.push('growth');
      rows[1]!.push(ratio(small.firstDiscoveryMs, large.firstDiscoveryMs));
      rows[2]!.push(ratio(small.cold.p50, large.cold.p50));
      rows[3]!.push(`${ratio(small.warm.p50, large.warm.p50)} (target ≤ 1.5×)`);
      rows[4]!.push(`${ratio(small.lookupBig.p50, large.lookupBig.p50)} (target ≤ 1.5×)`);
      rows[5]!.push(`${ratio(small.lookupSmall.p50, large.lookupSmall.p50)} (target ≤ 1.5×)`);
      rows[6]!.push(ratio(small.loginPost.p50, large.loginPost.p50));
      rows[7]!.push(ratio(small.signIn.rps, large.signIn.rps));
      const lastRss = (r: typeof small) => r.rss[r.rss.length - 1]!.mib;
      rows[8]!.push(ratio(lastRss(small), lastRss(large)));
      for (const row of rows.slice(0, 1)) row.push('');
    }
    log(`\nTarn at scale — ${SECONDS}s per measured loop, PROVIDER_CACHE_SIZE=${CACHE_SIZE}\n${load}\n`);
    log(table(head, rows));
    for (const r of results) {
      log(`\nquery plans at ${fmt(r.pools)} pools / ${fmt(r.users)} users:`);
      for (const line of r.plans) log(line);
    }
  } finally {
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:scale failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
