/**
 * Shared pieces of the benchmarks (not a test; never imported by src/ or test/):
 * a throw-away PostgreSQL database, server processes started the way an operator
 * starts them, a keep-alive HTTP client with a cookie jar, load drivers (autocannon
 * for fixed requests, a worker loop for flows whose every request differs) and the
 * machine description that goes next to every table.
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { toOidcMetadata } from '../src/clients/clients.service.js';
import type { ClientRow } from '../src/db/tables.js';

export const SERVER_URL = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

// ---------------------------------------------------------------- database

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(prefix = 'tarn_bench'): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    async drop() {
      const cleanup = new pg.Client({ connectionString: SERVER_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

// ---------------------------------------------------------------- processes

export interface ServerProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Resident set size of the server process, in MiB (from /proc). */
  rssMiB(): number;
  /** CPU time (user + system) the server process has used so far, in ms: robust to a shared machine's load. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BuiltCode {
  /** Where `relative` (e.g. "src/main.ts") runs from: its compiled .js, or the .ts itself under tsx. */
  script(relative: string): string;
  remove(): void;
}

/**
 * The servers run as production runs them: compiled by tsc (tsconfig.bench.json: src and
 * bench/bare-provider.ts) into the layout of the Docker image (compiled src/ next to
 * migrations/ and views/), started with plain `node`. Under tsx, every function expression
 * made at run time also pays tsx's name-keeping helper, which no production server runs.
 * BENCH_TSX=1 runs the TypeScript sources under tsx instead (no build).
 */
export function buildForBench(root: string): BuiltCode {
  if (process.env.BENCH_TSX === '1') return { script: (relative) => join(root, relative), remove() {} };
  const out = mkdtempSync(join(tmpdir(), 'tarn-bench-build-'));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.bench.json'), '--outDir', out], {
    stdio: 'inherit',
  });
  for (const shared of ['node_modules', 'migrations', 'views', 'locales']) symlinkSync(join(root, shared), join(out, shared));
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  return {
    script: (relative) => join(out, relative.replace(/\.ts$/, '.js')),
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

/** A variant of Tarn to load (bench:ab, bench:instructions): another checkout, more environment, node arguments. */
export interface TarnVariant {
  /** Another checkout to build and run (e.g. a `git worktree` of the commit before). */
  root?: string;
  env?: Record<string, string>;
  args?: string;
}

/** BENCH_AB: variant name → its settings; default one variant, "Tarn", as it is. */
export function variantsFromEnv<V extends TarnVariant>(): Record<string, V> {
  return JSON.parse(process.env.BENCH_AB ?? '{"Tarn":{}}') as Record<string, V>;
}

/** Builds each checkout once (buildForBench); `removeAll` when done. */
export function buildsOnce() {
  const builds = new Map<string, BuiltCode>();
  return {
    build: (root: string) => builds.get(root) ?? builds.set(root, buildForBench(root)).get(root)!,
    removeAll: () => {
      for (const code of builds.values()) code.remove();
    },
  };
}

/**
 * Starts `node <script>` (`node --import tsx` for a .ts script) and waits until `readyPath` answers 200.
 * `launcher`: a command that runs node (e.g. valgrind and its options); it is given the minutes it needs.
 */
export async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  port: number,
  readyPath: string,
  nodeArgs: string[] = [],
  launcher: string[] = [],
): Promise<ServerProcess> {
  const node = [process.execPath, ...nodeArgs, ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script];
  const [command, ...args] = [...launcher, ...node] as [string, ...string[]];
  const child = spawn(command, args, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? 'inherit' : 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (launcher.length ? 600_000 : 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
    try {
      const response = await request('GET', `${url}${readyPath}`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${stderr}`);
    await sleep(200);
  }
  return {
    name,
    url,
    child,
    rssMiB() {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    cpuMs() {
      return processCpuMs(child.pid!);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(12_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface TarnOptions {
  databaseUrl: string;
  adminToken: string;
  /** TARN_MASTER_KEY (hex); several Tarns on one database need the same one. */
  masterKey: string;
  /** More environment (e.g. PROVIDER_CACHE_SIZE, or a switch of a throw-away edit). */
  env?: Record<string, string>;
  nodeArgs?: string[] | undefined;
  /** A command that runs node (startServer). */
  launcher?: string[];
  readyPath?: string;
}

/** Tarn as an operator runs it (NODE_ENV=production, LOG_LEVEL=warn) on a port of its own. */
export async function startTarn(name: string, script: string, options: TarnOptions): Promise<ServerProcess> {
  const port = await freePort();
  return startServer(
    name,
    script,
    {
      NODE_ENV: 'production',
      DATABASE_URL: options.databaseUrl,
      LOG_LEVEL: 'warn',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TARN_ADMIN_TOKEN: options.adminToken,
      TARN_MASTER_KEY: options.masterKey,
      // Production needs a mail transport; the benchmarks send no mail.
      SMTP_URL: 'smtp://127.0.0.1:9',
      ...options.env,
    },
    port,
    options.readyPath ?? '/readyz',
    options.nodeArgs,
    options.launcher,
  );
}

/** Where bare+PG keeps its artifacts: Tarn's own storage (ADR 0707), or with BENCH_BARE_POSTGRES=plain the plain adapter. */
export const BARE_STORAGE: 'tarn' | 'plain' = process.env.BENCH_BARE_POSTGRES === 'plain' ? 'plain' : 'tarn';

export interface BareOptions {
  /** The static client's metadata (bareClientMetadata). */
  client: string;
  /** JSON [{id, email, password}] for the minimal login. */
  users?: string;
  /** Artifacts in this PostgreSQL database (bare+PG), stored as BARE_STORAGE says; in memory without it. */
  databaseUrl?: string;
  nodeArgs?: string[] | undefined;
  /** A command that runs node (startServer). */
  launcher?: string[];
}

/** Bare oidc-provider (bench/bare-provider.ts) on a port of its own. */
export async function startBare(name: string, script: string, options: BareOptions): Promise<ServerProcess> {
  const env: Record<string, string> = { NODE_ENV: 'production', BARE_CLIENT: options.client };
  if (options.users) env.BARE_USERS = options.users;
  if (options.databaseUrl) Object.assign(env, { BARE_DATABASE_URL: options.databaseUrl, BARE_STORAGE });
  return startServer(name, script, env, await freePort(), '/.well-known/openid-configuration', options.nodeArgs, options.launcher);
}

/** The metadata Tarn's provider loads for an application (clients.service toOidcMetadata), for bare oidc-provider's static client. */
export function bareClientMetadata(app: Record<string, unknown>): string {
  return JSON.stringify(
    toOidcMetadata(
      {
        client_id: app.clientId,
        name: app.name,
        redirect_uris: app.redirectUris,
        post_logout_redirect_uris: app.postLogoutRedirectUris ?? [],
        grant_types: app.grantTypes,
        token_endpoint_auth_method: app.tokenEndpointAuthMethod,
        backchannel_logout_uri: null,
        jwks: null,
      } as unknown as ClientRow,
      (app.secret as { value: string }).value,
    ),
  );
}

/** utime + stime of a process from /proc/<pid>/stat (clock ticks of 10 ms). */
export function processCpuMs(pid: number, withExitedChildren = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  // cutime + cstime: what its children used before they ended (counted once they are reaped)
  return (withExitedChildren ? own + Number(fields[13]) + Number(fields[14]) : own) * 10;
}

/**
 * CPU time used so far by every PostgreSQL process of this machine (the server Tarn's queries
 * run in shares the cores with it): what a request costs the database, next to Tarn's own.
 */
export function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      // Backends and autovacuum workers come and go: the postmaster's count of its ended
      // children keeps the total from falling when one of them exits during a round.
      total += processCpuMs(Number(entry), true);
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** utime + stime (ms) and start time (clock ticks since boot) of a process, from /proc/<pid>/stat. */
function processCpuAndStart(pid: number): { cpuMs: number; started: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, started: fields[19]! };
}

/**
 * CPU time used by the PostgreSQL client backends serving one database (those of the server under test, not
 * autovacuum nor the other work of a shared machine), from pg_stat_activity and /proc, sampled every
 * `everyMs`. Each backend is known by its pid and start time (a pid the kernel hands out again is
 * another backend) and counted from its reading when the tracking began, or from 0 if it started
 * later, to its last reading: a backend that ends keeps what it used up to its last sample (a pool
 * closing an idle connection loses nothing; until 2026-12-03 the figure summed only the backends
 * alive at both ends of a round, and went negative when a pool closed connections that earlier
 * scenarios had kept busy). `ready` settles with the baseline; `stop()` takes a last sample, ends the sampling and gives the total in ms.
 */
export function trackDatabaseBackendsCpu(databaseName: string, everyMs = 100): { ready: Promise<void>; cpuMs(): number; stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: SERVER_URL });
  const seen = new Map<string, { first: number; last: number }>();
  let baseline = true;
  const sample = async () => {
    const result = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", [
      databaseName,
    ]);
    for (const { pid } of result.rows) {
      try {
        const { cpuMs, started } = processCpuAndStart(pid);
        const key = `${pid}:${started}`;
        const known = seen.get(key);
        if (known) known.last = Math.max(known.last, cpuMs);
        else seen.set(key, { first: baseline ? cpuMs : 0, last: cpuMs });
      } catch {
        // ended meanwhile
      }
    }
    baseline = false;
  };
  const total = () => [...seen.values()].reduce((sum, { first, last }) => sum + last - first, 0);
  const ready = client.connect().then(sample);
  let running: Promise<void> = ready;
  const timer = setInterval(() => {
    running = running.then(sample, () => undefined);
  }, everyMs);
  return {
    /** Settles once the baseline sample is taken: what a measurement must wait for before it starts. */
    ready,
    cpuMs: total,
    async stop() {
      clearInterval(timer);
      await running.then(sample);
      await client.end();
      return total();
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- HTTP client

// One keep-alive agent: the load drivers reuse connections as autocannon does.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(method: string, url: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, agent, headers: { ...options.headers, ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A browser's cookie jar, reduced to what a sign-in on one origin needs. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(headers: http.IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line);
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

// ---------------------------------------------------------------- load drivers

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  /** Responses that were not the expected success, and transport errors. */
  failures: number;
}

export interface AutocannonScenario {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export async function runAutocannon(scenario: AutocannonScenario, connections: number, seconds: number): Promise<Measured> {
  const result = await autocannon({
    url: scenario.url,
    method: scenario.method ?? 'GET',
    headers: scenario.headers ?? {},
    ...(scenario.body !== undefined ? { body: scenario.body } : {}),
    connections,
    duration: seconds,
  });
  const ok = result['2xx'];
  return { rps: ok / seconds, p50: result.latency.p50, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * `workers` concurrent loops, each running `iteration` back to back for `seconds`.
 * An iteration is one unit of work (one refresh, one whole sign-in); its latency is recorded.
 */
export async function runLoop<W>(workers: W[], seconds: number, iteration: (worker: W) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    workers.map(async (worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await iteration(worker);
          latencies.push(performance.now() - t0);
        } catch (error) {
          failures += 1;
          if (failures <= 3) process.stderr.write(`  iteration failed: ${(error as Error).message}\n`);
          if (failures > 50) throw error;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
}

// ---------------------------------------------------------------- reporting

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const [one, five, fifteen] = loadavg();
  return `nproc ${cpus().length}, ${cpu}, node ${process.version}, load average before the run ${one!.toFixed(2)} / ${five!.toFixed(2)} / ${fifteen!.toFixed(2)}`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A Markdown table (what docs/performance.md keeps). */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
