/**
 * npm run bench:instructions — instructions executed per client-credentials token, counted
 * by callgrind (valgrind), for Tarn (or variants of it) and bare oidc-provider on Tarn's
 * artifact storage (bare+PG, the yardstick of ADR 0707). A benchmark, never part of `npm test`.
 *
 * Why: CPU time on a small VM drifts by ± 25 % within minutes, and two `bench:ab` runs of
 * the same pair can disagree by more than a change of a few microseconds is worth.
 * Instruction counts do not depend on the machine's speed or on what else it is doing. They
 * still vary: a window with a full garbage collection in it counts up to ≈ 15 % more, so
 * the median of the windows is the figure (two runs of the same build: within ≈ 3 %). They
 * are not time (cache misses and the database's own CPU are not in them), so they judge a
 * change in Tarn's own code; tokens/s stays the measure of the targets (`npm run bench`).
 *
 * Each server runs under `valgrind --tool=callgrind` with instrumentation off (it starts and
 * warms up several times faster than when counting), gets an admin request
 * (as an operator's instance does), a warm-up of INSTR_WARMUP tokens, then instrumentation
 * is switched on and the count is dumped after each of INSTR_WINDOWS windows of INSTR_TOKENS
 * tokens (10 keep-alive workers). Every thread of the process counts (GC helpers too).
 *
 * BENCH_AB (JSON, as bench:ab): variant name → { root?, env?, args? }; default {"Tarn":{}}.
 * INSTR_WARMUP (3000), INSTR_TOKENS (4000), INSTR_WINDOWS (3). Needs valgrind (Debian package `valgrind`).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientCredentialsApp, clientCredentialsHeaders } from './flows.js';
import {
  bareClientMetadata,
  buildsOnce,
  createBenchDatabase,
  envInt,
  fmt,
  machine,
  median,
  request,
  sleep,
  startBare,
  startTarn,
  table,
  type BenchDatabase,
  type ServerProcess,
  variantsFromEnv,
} from './lib.js';

const variants = variantsFromEnv();
const WARMUP = envInt('INSTR_WARMUP', 3000);
const TOKENS = envInt('INSTR_TOKENS', 4000);
const WINDOWS = envInt('INSTR_WINDOWS', 3);
const root = fileURLToPath(new URL('..', import.meta.url));

/** The callgrind command that runs a server; its counts go to files starting with `out`. */
function callgrind(out: string): string[] {
  // --smc-check: V8 writes and patches machine code on its heap; --instr-atstart=no: counted only when switched on.
  return ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${out}`];
}

/** Sends `amount` client-credentials requests from 10 keep-alive workers; throws unless every one got a token. */
async function tokens(url: string, headers: Record<string, string>, amount: number): Promise<void> {
  let sent = 0;
  let failed = 0;
  const worker = async () => {
    while (sent < amount) {
      sent += 1;
      if ((await request('POST', url, { headers, body: 'grant_type=client_credentials' })).status !== 200) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  if (failed) throw new Error(`${failed} of ${amount} token requests failed`);
}

/** The instructions of the dump callgrind writes next (`dumps` already read), once it is complete. */
async function nextDump(out: string, dumps: Set<string>): Promise<number> {
  const dir = join(out, '..');
  for (let attempt = 0; attempt < 120; attempt += 1) {
    for (const file of readdirSync(dir).filter((name) => !dumps.has(name))) {
      const totals = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
      if (totals) {
        dumps.add(file);
        return Number(totals[1]);
      }
    }
    await sleep(500);
  }
  throw new Error(`no callgrind dump in ${dir}`);
}

/** Instructions per token in each of WINDOWS windows of TOKENS tokens, after the warm-up: one dump per window. */
async function countTokens(server: ServerProcess, out: string, url: string, headers: Record<string, string>): Promise<number[]> {
  const pid = String(server.child.pid);
  const dumps = new Set<string>();
  await tokens(url, headers, WARMUP);
  // (nothing is counted while instrumentation is off: no zeroing needed)
  execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
  const perToken: number[] = [];
  for (let window = 0; window < WINDOWS; window += 1) {
    await tokens(url, headers, TOKENS);
    execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
    perToken.push((await nextDump(out, dumps)) / TOKENS);
  }
  execFileSync('callgrind_control', ['--instr=off', pid], { stdio: 'ignore' });
  return perToken;
}

async function main() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('valgrind is not installed (apt-get install valgrind)');
  }
  const load = machine();
  const { build, removeAll } = buildsOnce();
  const database = await createBenchDatabase('tarn_instr');
  let bareDatabase: BenchDatabase | undefined;
  const servers: ServerProcess[] = [];
  const dumps: string[] = [];
  const counted = new Map<string, number[]>();
  const dumpDir = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `tarn-instr-${name.replace(/\W/g, '_')}-`));
    dumps.push(dir);
    return join(dir, 'callgrind.out');
  };
  try {
    const adminToken = `bench-${randomBytes(16).toString('hex')}`;
    const masterKey = randomBytes(32).toString('hex');
    let app: Record<string, unknown> | undefined;
    for (const [name, variant] of Object.entries(variants)) {
      const out = dumpDir(name);
      const server = await startTarn(name, build(variant.root ?? root).script('src/main.ts'), {
        databaseUrl: database.url,
        adminToken,
        masterKey,
        ...(variant.env ? { env: variant.env } : {}),
        nodeArgs: variant.args?.split(' ').filter(Boolean),
        launcher: callgrind(out),
      });
      servers.push(server);
      app = await clientCredentialsApp(server.url, adminToken, app);
      const headers = clientCredentialsHeaders(app);
      counted.set(name, await countTokens(server, out, `${server.url}/pools/bench/token`, headers));
      await server.stop();
    }
    if (!app) throw new Error('BENCH_AB names no variant');
    bareDatabase = await createBenchDatabase('bare_instr');
    const out = dumpDir('bare+PG');
    const bare = await startBare('bare+PG', build(root).script('bench/bare-provider.ts'), {
      client: bareClientMetadata(app),
      databaseUrl: bareDatabase.url,
      launcher: callgrind(out),
    });
    servers.push(bare);
    const headers = clientCredentialsHeaders(app);
    counted.set('bare+PG', await countTokens(bare, out, `${bare.url}/token`, headers));
    await bare.stop();

    const yardstick = median(counted.get('bare+PG')!);
    const rows = [...counted].map(([name, windows]) => [
      name,
      fmt(median(windows) / 1000, 1),
      windows.map((value) => fmt(value / 1000)).join(' '),
      `${fmt((100 * median(windows)) / yardstick)} %`,
    ]);
    process.stdout.write(
      `\nclient-credentials tokens under callgrind: ${fmt(WARMUP)} to warm up, then ${WINDOWS} windows of ${fmt(TOKENS)}, 10 connections\n${load}\n\n`,
    );
    process.stdout.write(table(['server', 'k instructions per token (median)', 'windows (k)', '÷ bare+PG'], rows) + '\n');
  } finally {
    for (const server of servers) await server.stop();
    await database.drop();
    await bareDatabase?.drop();
    removeAll();
    for (const dir of dumps) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:instructions failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
