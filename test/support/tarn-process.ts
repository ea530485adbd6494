/**
 * Tarn as `npm start` runs it: a child process with its own environment, data directory
 * and port, reached only over HTTP. Used where the process itself matters (outgoing
 * network policy, interop with relying parties). stop() ends it by its process group id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Processes started by this test file and not yet stopped (afterAll stops them, even after a timeout). */
const running = new Set<TarnProcess>();

export async function stopAllTarnProcesses(): Promise<void> {
  await Promise.all([...running].map((tarn) => tarn.stop()));
}

export interface TarnProcess {
  url: string;
  adminToken: string;
  /** Everything the process wrote to stdout and stderr so far (its JSON log lines included). */
  output(): string;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  /** SIGTERM to the process group; resolves when the process has exited. */
  stop(): Promise<void>;
}

export interface TarnProcessOptions {
  /** Environment on top of the defaults below (OUTGOING_NETWORKS, …). */
  env?: Record<string, string>;
  /** Reuse a data directory and master key (a restart); fresh ones otherwise. */
  dataDir?: string;
  masterKey?: string;
  port?: number;
}

export async function startTarnProcess(options: TarnProcessOptions = {}): Promise<TarnProcess & { dataDir: string; masterKey: string }> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tarn-process-'));
  const masterKey = options.masterKey ?? randomBytes(32).toString('hex');
  const adminToken = `process-admin-${randomBytes(12).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'NODE_OPTIONS', 'SMTP_URL', 'OUTGOING_NETWORKS', 'OUTGOING_TIMEOUT_MS', 'METRICS_TOKEN']) delete env[name];
  // The suite's DATABASE_URL names a database each test file creates; a child process gets PGlite.
  Object.assign(env, {
    NODE_ENV: 'development',
    PORT: String(port),
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    TARN_MASTER_KEY: masterKey,
    TARN_ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const child: ChildProcess = spawn('npm', ['start', '--silent'], { cwd: root, env, detached: true });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await waitFor(() => gone || out.includes('Quick start:'), 'Tarn to start');
  } catch (error) {
    process.kill(-child.pid!, 'SIGTERM');
    throw error;
  }
  if (gone) throw new Error(`Tarn did not start:\n${out}`);

  const tarn: TarnProcess & { dataDir: string; masterKey: string } = {
    url,
    adminToken,
    dataDir,
    masterKey,
    output: () => out,
    async admin(method, path, body) {
      const response = await fetch(`${url}/admin${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    async stop() {
      running.delete(tarn);
      if (gone) return;
      // The process group it leads, as a terminal's Ctrl-C would (a SIGTERM to npm alone works too: test/start/npm-start.test.ts).
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
  running.add(tarn);
  return tarn;
}

/** A counter's value in the Prometheus text /metrics serves (0 when the series is absent). */
export async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
