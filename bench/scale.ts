/**
 * npm run bench:scale — does Tarn stay fast as pools and users grow?
 * (docs/design.md#performance)
 *
 * Seeds two fresh PostgreSQL databases straight through SQL set operations (minutes, not
 * hours), one with 100 pools / 10,000 users, one with 10,000 pools / 1,000,000 users,
 * starts a Tarn on each (PROVIDER_CACHE_SIZE small, 200) and measures both, in rounds that
 * alternate the sizes so a shared machine's drifting load falls on both alike:
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
 * Environment: BENCH_SECONDS (12, per measured loop and size), BENCH_ROUNDS (6), PROVIDER_CACHE_SIZE (200),
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
import { admin, signIn, type SignInTarget, type Worker } from './flows.js';
import {
  buildForBench,
  CookieJar,
  createBenchDatabase,
  envInt,
  fmt,
  machine,
  request,
  runLoop,
  startTarn,
  table,
  type BenchDatabase,
  type Measured,
  type ServerProcess,
} from './lib.js';

const SECONDS = envInt('BENCH_SECONDS', 12);
const CACHE_SIZE = envInt('PROVIDER_CACHE_SIZE', 200);
const TOUCH = envInt('BENCH_TOUCH_POOLS', 1000);
const ROUNDS = envInt('BENCH_ROUNDS', 6);
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
    [
      'user by id (findAccount)',
      `select * from users where pool_id = '${poolId(pools - 1)}' and id = '${rows[0]?.id ?? '00000000-0000-0000-0000-000000000000'}'`,
    ],
    [
      'artifact by id',
      `select payload, consumed_at, expires_at from oidc_artifacts where pool_id = '${a.pool_id}' and model = '${a.model}' and id = '${a.id}' and (expires_at is null or expires_at > now())`,
    ],
    ['signing keys of a pool (provider build)', `select * from signing_keys where pool_id = '${poolId(pools - 1)}' order by created_at desc, kid`],
    ['pool version (freshness check)', `select version from pools where id = '${poolId(pools - 1)}'`],
  ];
  const out: string[] = [];
  for (const [label, query] of queries) {
    const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${query}`);
    const lines = plan.rows.map((row) => row['QUERY PLAN']);
    const scan =
      lines
        .find((line) => /Scan/.test(line))
        ?.trim()
        .replace(/\s+\(cost=.*$/, '') ?? lines[0]!;
    const time = lines.find((line) => line.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '';
    out.push(`  ${label}: ${scan.replace(/^->\s*/, '')} (${time})`);
  }
  return out;
}

interface World {
  pools: number;
  users: number;
  database: BenchDatabase;
  client: pg.Client;
  seedSeconds: number;
  tarn?: ServerProcess;
  adminToken: string;
  samples: Record<string, number[]>;
  counts: Record<string, number>;
  firstDiscoveryMs?: number;
  rss: { touched: number; mib: number }[];
  plans: string[];
}

async function seedWorld(pools: number, users: number, envelope: ReturnType<typeof createEnvelope>, keys: KeyMaterial[], hash: string): Promise<World> {
  const database = await createBenchDatabase('tarn_scale');
  const handle = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
  await migrate(handle);
  await handle.close();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  // Bulk loading: no need to wait for each batch's WAL flush.
  await client.query('set synchronous_commit = off');
  const t0 = performance.now();
  log(`seeding ${fmt(pools)} pools / ${fmt(users)} users …`);
  await seedPools(client, (plain, context) => envelope.seal(plain, context), keys, 0, pools);
  await seedUsers(client, hash, 0, users, pools);
  await client.query('vacuum analyze');
  // Flush the seed's dirty pages now, so the checkpoint's writes do not land in the measurements.
  await client.query('checkpoint');
  const seedSeconds = (performance.now() - t0) / 1000;
  log(`  seeded in ${fmt(seedSeconds, 1)} s`);
  return { pools, users, database, client, seedSeconds, adminToken: `bench-${randomBytes(16).toString('hex')}`, samples: {}, counts: {}, rss: [], plans: [] };
}

// The compiled build, as the Docker image runs it (lib.ts buildForBench); made in main().
let tarnScript = `${root}src/main.ts`;

async function startWorldTarn(world: World, masterKeyHex: string): Promise<ServerProcess> {
  world.tarn = await startTarn('Tarn', tarnScript, {
    databaseUrl: world.database.url,
    adminToken: world.adminToken,
    masterKey: masterKeyHex,
    env: { PROVIDER_CACHE_SIZE: String(CACHE_SIZE) },
    readyPath: '/healthz',
  });
  return world.tarn;
}

const discoveryUrl = (world: World, i: number) => `${world.tarn!.url}/pools/${poolId(i)}/.well-known/openid-configuration`;

async function lookup(world: World, pool: string, email: string): Promise<number> {
  const t0 = performance.now();
  const response = await request('GET', `${world.tarn!.url}/admin/pools/${pool}/users?email=${encodeURIComponent(email)}`, {
    headers: { authorization: `Bearer ${world.adminToken}` },
  });
  if (response.status !== 200 || !response.body.includes('"email"'))
    throw new Error(`lookup ${pool} ${email}: ${response.status} ${response.body.slice(0, 200)}`);
  return performance.now() - t0;
}

/**
 * Runs `iteration` on every world in alternating rounds (small, large, small, large …), so
 * a shared machine's drifting load falls on both sizes alike; each world gets `seconds` in
 * all. Latencies land in world.samples[name], completed iterations in world.counts[name].
 */
async function alternate(
  worlds: World[],
  name: string,
  workers: (world: World) => unknown[],
  iteration: (world: World, worker: unknown) => Promise<number | void>,
) {
  for (const world of worlds) await runLoop(workers(world), 1, (worker) => iteration(world, worker).then(() => undefined));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const world of worlds) {
      const samples = (world.samples[name] ??= []);
      const result = await runLoop(workers(world), SECONDS / ROUNDS, async (worker) => {
        const ms = await iteration(world, worker);
        if (typeof ms === 'number') samples.push(ms);
      });
      world.counts[name] = (world.counts[name] ?? 0) + result.rps * (SECONDS / ROUNDS);
    }
  }
}

async function measure(worlds: World[], masterKeyHex: string): Promise<void> {
  for (const world of worlds) {
    await startWorldTarn(world, masterKeyHex);
    // Cold: the very first pool request after start.
    world.firstDiscoveryMs = await timed(discoveryUrl(world, 1));
  }
  // Cold pools: never touched since start, each one a provider build; the sizes interleaved.
  for (let k = 0; k < 50; k += 1) {
    for (const world of worlds) {
      const i = 2 + Math.floor(((world.pools - 2) * k) / 50);
      (world.samples.cold ??= []).push(await timed(discoveryUrl(world, i)));
    }
  }
  // Warm: one pool, sequential requests (latency, not throughput).
  await alternate(
    worlds,
    'warm',
    () => [0],
    (world) => timed(discoveryUrl(world, 1)),
  );
  // Email lookups through the admin API, in the big pool and in ordinary pools (i % 10 ≠ 0 → pool i % pools).
  await alternate(
    worlds,
    'lookupBig',
    () => [0],
    (world) => lookup(world, BIG_POOL, `USER${10 * Math.floor((Math.random() * world.users) / 10)}@Example.test`),
  );
  await alternate(
    worlds,
    'lookupSmall',
    () => [0],
    (world) => {
      let i = Math.floor(Math.random() * world.users);
      if (i % 10 === 0) i += 1;
      return lookup(world, poolId(i % world.pools), `user${i}@example.test`);
    },
  );

  // Sign-in at the big pool: whole sign-ins, the login form post timed alone.
  const targets = new Map<World, { target: SignInTarget; workers: Worker[] }>();
  for (const world of worlds) {
    const app = await admin(world.tarn!.url, world.adminToken, 'POST', `/pools/${BIG_POOL}/clients`, {
      name: 'Scale App',
      redirectUris: ['http://rp.bench.test/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    const meta = JSON.parse((await request('GET', discoveryUrl(world, 0))).body) as Record<string, string>;
    const target = { meta, clientId: app.clientId as string, clientSecret: (app.secret as { value: string }).value };
    const workers: Worker[] = [0, 1, 2, 3].map((k) => ({ jar: new CookieJar(), user: { email: `user${10 * (k + 1)}@example.test`, password: PASSWORD } }));
    await Promise.all(workers.map((worker) => signIn(target, worker, false)));
    targets.set(world, { target, workers });
  }
  await alternate(
    worlds,
    'signIn',
    (world) => targets.get(world)!.workers,
    (world, worker) => signIn(targets.get(world)!.target, worker as Worker, true, (ms) => (world.samples.loginPost ??= []).push(ms)),
  );

  // Memory: touch more pools than the LRU holds, 4 at a time; RSS at checkpoints.
  for (const world of worlds) {
    const tarn = world.tarn!;
    world.rss.push({ touched: 0, mib: tarn.rssMiB() });
    const limit = Math.min(TOUCH, world.pools);
    const checkpoints = new Set([Math.min(CACHE_SIZE, limit), Math.min(2 * CACHE_SIZE, limit), limit]);
    let next = 0;
    let touched = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < limit) {
          await timed(discoveryUrl(world, next++));
          touched += 1;
          if (checkpoints.has(touched)) world.rss.push({ touched, mib: tarn.rssMiB() });
        }
      }),
    );
    world.rss.sort((x, y) => x.touched - y.touched);
    world.plans = await explainHotQueries(world.client, world.pools, world.users);
  }
}

async function main() {
  const load = machine();
  const masterKey = randomBytes(32);
  const envelope = createEnvelope(masterKey);
  const keys = await keyMaterial();
  const hash = await argon2.hash(PASSWORD, ARGON2_PARAMS);
  const worlds: World[] = [];
  const code = buildForBench(root);
  tarnScript = code.script('src/main.ts');
  try {
    for (const scale of SCALES) worlds.push(await seedWorld(scale.pools, scale.users, envelope, keys, hash));
    log('measuring …');
    await measure(worlds, masterKey.toString('hex'));

    const ms = (value: number) => fmt(value, 2);
    const stat = (world: World, name: string) => summarise(world.samples[name] ?? []);
    const pair = (world: World, name: string) => `${ms(stat(world, name).p50)} / ${ms(stat(world, name).p99)}`;
    const head = ['measure', ...worlds.map((w) => `${fmt(w.pools)} pools / ${fmt(w.users)} users`)];
    const rows: string[][] = [
      ['seed time (s)', ...worlds.map((w) => fmt(w.seedSeconds, 1))],
      ['discovery, first request after start (ms)', ...worlds.map((w) => ms(w.firstDiscoveryMs!))],
      ['discovery, cold pool p50 / p99 (ms)', ...worlds.map((w) => pair(w, 'cold'))],
      ['discovery, warm pool p50 / p99 (ms)', ...worlds.map((w) => pair(w, 'warm'))],
      [`email lookup, ${BIG_POOL} (10 % of users) p50 / p99 (ms)`, ...worlds.map((w) => pair(w, 'lookupBig'))],
      ['email lookup, ordinary pool p50 / p99 (ms)', ...worlds.map((w) => pair(w, 'lookupSmall'))],
      ['login form post p50 / p99 (ms)', ...worlds.map((w) => pair(w, 'loginPost'))],
      ['whole sign-ins/s (4 workers)', ...worlds.map((w) => fmt((w.counts.signIn ?? 0) / SECONDS, 1))],
      [`RSS (MiB) by pools touched, LRU ${CACHE_SIZE}`, ...worlds.map((w) => w.rss.map((p) => `${fmt(p.touched)}: ${fmt(p.mib)}`).join(', '))],
    ];
    if (worlds.length >= 2) {
      const [small, large] = [worlds[0]!, worlds[worlds.length - 1]!];
      const ratio = (a: number, b: number) => `${fmt(b / a, 2)}×`;
      const p50 = (world: World, name: string) => stat(world, name).p50;
      head.push('growth');
      rows[0]!.push('');
      rows[1]!.push(ratio(small.firstDiscoveryMs!, large.firstDiscoveryMs!));
      rows[2]!.push(ratio(p50(small, 'cold'), p50(large, 'cold')));
      rows[3]!.push(`${ratio(p50(small, 'warm'), p50(large, 'warm'))} (target ≤ 1.5×)`);
      rows[4]!.push(`${ratio(p50(small, 'lookupBig'), p50(large, 'lookupBig'))} (target ≤ 1.5×)`);
      rows[5]!.push(`${ratio(p50(small, 'lookupSmall'), p50(large, 'lookupSmall'))} (target ≤ 1.5×)`);
      rows[6]!.push(ratio(p50(small, 'loginPost'), p50(large, 'loginPost')));
      rows[7]!.push(ratio(small.counts.signIn ?? 0, large.counts.signIn ?? 0));
      rows[8]!.push(ratio(small.rss[small.rss.length - 1]!.mib, large.rss[large.rss.length - 1]!.mib));
    }
    log(`\nTarn at scale — ${SECONDS}s per measured loop and size in ${ROUNDS} alternating rounds, PROVIDER_CACHE_SIZE=${CACHE_SIZE}\n${load}\n`);
    log(table(head, rows));
    for (const world of worlds) {
      log(`\nquery plans at ${fmt(world.pools)} pools / ${fmt(world.users)} users:`);
      for (const line of world.plans) log(line);
    }
  } finally {
    for (const world of worlds) {
      await world.tarn?.stop();
      await world.client.end().catch(() => {});
      await world.database.drop();
    }
    code.remove();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:scale failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
