/**
 * Starts a whole Tarn on a random loopback port with its own database, as a user would
 * reach it over HTTP. PUBLIC_URL is the real address, so issuers and redirects work.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AppDeps, type TarnApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface RunningTarn {
  url: string;
  adminToken: string;
  config: Config;
  database: TestDatabase;
  tarn: TarnApp;
  server: Server;
  /** fetch against the admin API with the admin token. */
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** Dependencies a test may replace (see AppDeps): its own mailer, a clock it moves, a logger it reads. */
export type TestDeps = Partial<Pick<AppDeps, 'mailer' | 'clock' | 'log'>>;

export async function startTarn(env: Record<string, string> = {}, database?: TestDatabase, deps: TestDeps = {}): Promise<RunningTarn> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // PUBLIC_URL may name another host for the same port ("http://localhost:{port}", for WebAuthn).
  const url = (env.PUBLIC_URL ?? 'http://127.0.0.1:{port}').replace('{port}', String(port));
  const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    TARN_ADMIN_TOKEN: adminToken,
    TARN_MASTER_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'tarn-test-')),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
    PUBLIC_URL: url,
  });
  const db = database ?? (await createTestDatabase());
  const tarn = createApp({ config, database: db.handle, ...deps, log: deps.log ?? createLogger(config.logLevel) });
  server.on('request', tarn.app.callback());

  return {
    url,
    adminToken,
    config,
    database: db,
    tarn,
    server,
    async admin(method, path, body, headers = {}) {
      const response = await fetch(`${url}/admin${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tarn.close();
      if (!database) await db.drop();
    },
  };
}
