/**
 * A PostgreSQL server of the test's own: its own data directory under /tmp, its own
 * free port, started and stopped by the test (to take the database away mid-run).
 * initdb refuses to run as root, so as root every command runs as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  start(): Promise<void>;
  /** "immediate" is a crash (recovery from the WAL on start); "fast" a clean shutdown. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  destroy(): Promise<void>;
}

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = binDir();
  const root = mkdtempSync('/tmp/tarn-pg-');
  const data = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(root, Number(stdout.trim()), Number(gid.trim()));
  }
  const exec = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', `${bin}/${command}`, ...args]) : run(`${bin}/${command}`, args);

  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--locale=C']);
  let port = await freePort();
  const optionsFor = (candidate: number) => `-p ${candidate} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=100`;
  // The port was free a moment ago; if another process took it meanwhile, take another.
  for (let attempt = 1; ; attempt += 1) {
    try {
      await exec('pg_ctl', ['-D', data, '-o', optionsFor(port), '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
      port = await freePort();
    }
  }
  const options = optionsFor(port);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;

  const server: PostgresServer = {
    url,
    port,
    urlFor,
    async start() {
      await exec('pg_ctl', ['-D', data, '-o', options, '-l', join(root, 'server.log'), '-w', '-t', '60', 'start']);
    },
    async stop(mode = 'fast') {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    async createDatabase(name) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return urlFor(name);
    },
    async destroy() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
  return server;
}
