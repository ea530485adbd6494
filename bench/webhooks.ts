/**
 * npm run bench:webhooks: a measurement, not a test (ADR 0809).
 * 1. Events per second delivered to a local receiver: BENCH_WEBHOOK_EVENTS events are written
 *    at once (each queues one delivery), and one worker sends them to a plain HTTP receiver
 *    on loopback; the rate is from the first write to the last request received.
 * 2. The extra cost per sign-in of the outbox: the time to write a `sign_in.success` event
 *    for a pool without webhooks (the event row only) and for a pool with one webhook that
 *    wants it (the event row and its delivery row, one statement), sequentially, median of rounds.
 * DATABASE_URL selects PostgreSQL (a database is created and dropped); otherwise PGlite in memory.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/log.js';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000);
const SIGN_INS = Number(process.env.BENCH_WEBHOOK_SIGN_INS ?? 500);

async function benchDatabase(): Promise<{ url: string | undefined; drop: () => Promise<void> }> {
  const server = process.env.DATABASE_URL;
  if (!server) return { url: undefined, drop: async () => {} };
  const name = `bench_webhooks_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function main() {
  const bench = await benchDatabase();
  const adminToken = randomBytes(16).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    TARN_ADMIN_TOKEN: adminToken,
    TARN_MASTER_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    OUTGOING_NETWORKS: 'loopback',
    WEBHOOK_POLL_INTERVAL_MS: '1000',
    ...(bench.url ? { DATABASE_URL: bench.url } : {}),
  });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: 'memory://' });
  await migrate(database);
  const tarn = createApp({ config, database, log: createLogger('silent') });
  const http = createServer(tarn.app.callback());
  // The admin calls are minutes apart: keep their connection open meanwhile.
  http.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}/admin`;
  const admin = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };

  let received = 0;
  let lastAt = 0;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      lastAt = performance.now();
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;

  const audit = tarn.services.audit;
  // 2. The outbox's extra cost per sign-in event (no worker running: nothing competes).
  const plain = await admin('/pools', { id: `bench-${randomBytes(3).toString('hex')}`, name: 'No webhook' });
  const hooked = await admin('/pools', { id: `bench-${randomBytes(3).toString('hex')}`, name: 'One webhook' });
  await admin(`/pools/${hooked.id}/webhooks`, { url: receiverUrl, eventTypes: ['sign_in.*'] });
  const perSignIn = async (poolId: string) => {
    const started = performance.now();
    for (let i = 0; i < SIGN_INS; i += 1) {
      await audit.signIn({ poolId, method: 'password', outcome: 'success', userId: randomBytes(8).toString('hex'), email: 'bench@example.test' });
    }
    return ((performance.now() - started) / SIGN_INS) * 1000;
  };
  const rounds: { without: number; with: number }[] = [];
  await perSignIn(plain.id); // warm-up
  for (let round = 0; round < 5; round += 1) rounds.push({ without: await perSignIn(plain.id), with: await perSignIn(hooked.id) });
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const without = median(rounds.map((r) => r.without));
  const withHook = median(rounds.map((r) => r.with));

  // 1. Delivery rate: the deliveries queued above by the hooked pool are sent first, then these.
  const queuedBefore = SIGN_INS * 5;
  const pool = await admin('/pools', { id: `bench-${randomBytes(3).toString('hex')}`, name: 'Delivery' });
  await admin(`/pools/${pool.id}/webhooks`, { url: receiverUrl, eventTypes: ['*'] });
  const startedAt = performance.now();
  tarn.webhookWorker.start();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < EVENTS; i += 1) {
    writes.push(audit.record({ poolId: pool.id, action: 'bench.event', outcome: 'success', details: { n: i } }));
  }
  await Promise.all(writes);
  const target = EVENTS + queuedBefore + 1; // + the pool's own webhooks.create event
  while (received < target) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (lastAt - startedAt) / 1000;

  process.stdout.write(
    [
      `database: ${database.kind}`,
      `deliveries: ${received} in ${seconds.toFixed(2)} s = ${(received / seconds).toFixed(0)} events/s (one worker, loopback receiver)`,
      `sign-in event write: ${without.toFixed(0)} µs without a webhook, ${withHook.toFixed(0)} µs with one (+${(withHook - without).toFixed(0)} µs for the delivery row), median of 5 × ${SIGN_INS}`,
      '',
    ].join('\n'),
  );
  await tarn.close();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await database.close();
  await bench.drop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
