/**
 * npm run bench:statements — every statement Tarn sends to PostgreSQL for one password sign-in
 * (not timed): a new browser (authorization request, login page, login form post, consent,
 * code, code exchange), then the same browser again with prompt=login (consent remembered).
 * Statements are listed in order, with a count of those sent more than once.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admin, REDIRECT_URI, signIn, type Worker } from './flows.js';
import { buildForBench, CookieJar, createBenchDatabase, request, startTarn } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function main() {
  const code = buildForBench(root);
  const database = await createBenchDatabase();
  const log = join(tmpdir(), `tarn-statements-${randomBytes(4).toString('hex')}.log`);
  writeFileSync(log, '');
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  const tarn = await startTarn('Tarn', code.script('src/main.ts'), {
    databaseUrl: database.url,
    adminToken,
    masterKey: randomBytes(32).toString('hex'),
    env: { STATEMENT_LOG: log, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    nodeArgs: ['--import', join(root, 'bench/statement-log.mjs')],
  });
  try {
    const pool = await admin(tarn.url, adminToken, 'POST', '/pools', { id: 'bench', name: 'Bench' });
    const app = await admin(tarn.url, adminToken, 'POST', '/pools/bench/clients', {
      name: 'Bench App',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    const discovery = JSON.parse((await request('GET', `${pool.issuer}/.well-known/openid-configuration`)).body) as Record<string, string>;
    const target = { meta: discovery, clientId: app.clientId as string, clientSecret: (app.secret as { value: string }).value };
    const newWorker = async (i: number): Promise<Worker> => {
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const email = `user${i}@bench.test`;
      await admin(tarn.url, adminToken, 'POST', '/pools/bench/users', { email, mode: 'password', password, emailVerified: true });
      return { jar: new CookieJar(), user: { email, password } };
    };
    // Warm-up: the pool's provider built, its keys and client cached, every statement prepared once.
    const warm = await newWorker(0);
    await signIn(target, warm, false);
    await signIn(target, warm, true);
    const worker = await newWorker(1);
    const mark = (method: string, url: string) => appendFileSync(log, JSON.stringify(`>>> ${method} ${new URL(url).pathname}`) + '\n');
    const phases: [string, () => Promise<void>][] = [
      ['new browser: authorize → login form → consent → code → token', () => signIn(target, worker, false, undefined, mark)],
      ['same browser, prompt=login: authorize → login form → (consent remembered) → code → token', () => signIn(target, worker, true, undefined, mark)],
      [
        'new browser, consent given before: authorize → login form → code → token',
        () => signIn(target, { ...worker, jar: new CookieJar() }, false, undefined, mark),
      ],
    ];
    for (const [label, run] of phases) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(log, '');
      await run();
      // Writes deferred to the end of the turn or committed later land within a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const lines = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string);
      const statements = lines.filter((s) => !s.startsWith('>>> '));
      const counts = new Map<string, number>();
      for (const s of statements) counts.set(s, (counts.get(s) ?? 0) + 1);
      process.stdout.write(`\n## ${label}: ${statements.length} statements\n\n`);
      let n = 0;
      for (const s of lines) process.stdout.write(s.startsWith('>>> ') ? `${s.slice(4)}\n` : `${String((n += 1)).padStart(5)}. ${s.slice(0, 200)}\n`);
      const repeated = [...counts].filter(([, n]) => n > 1);
      if (repeated.length) {
        process.stdout.write('\nsent more than once:\n');
        for (const [s, n] of repeated) process.stdout.write(`  ${n}× ${s.slice(0, 160)}\n`);
      }
    }
  } finally {
    await tarn.stop();
    await database.drop();
    code.remove();
    rmSync(log, { force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:statements failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
