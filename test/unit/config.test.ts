/** Configuration: defaults, generated development secrets, and one clear line per mistake. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'tarn-config-'));

it('starts in development with defaults, a generated admin token and a master key kept in DATA_DIR', () => {
  const dir = dataDir();
  const config = loadConfig({ DATA_DIR: dir });
  expect(config).toMatchObject({ env: 'development', port: 3000, publicUrl: 'http://localhost:3000', databaseUrl: undefined, adminTokenGenerated: true });
  expect(config.adminToken).toMatch(/^tat_/);
  expect(config.masterKey).toHaveLength(32);
  expect(readFileSync(join(dir, 'master.key'), 'utf8').trim()).toBe(config.masterKey.toString('hex'));
  // A restart reads the same key back, so what was encrypted stays readable.
  expect(loadConfig({ DATA_DIR: dir }).masterKey.equals(config.masterKey)).toBe(true);
  expect(Object.isFrozen(config)).toBe(true);
});

it('follows PORT in the default public URL and strips a trailing slash from PUBLIC_URL', () => {
  expect(loadConfig({ DATA_DIR: dataDir(), PORT: '4000' }).publicUrl).toBe('http://localhost:4000');
  expect(loadConfig({ DATA_DIR: dataDir(), PUBLIC_URL: 'https://id.example.com/' }).publicUrl).toBe('https://id.example.com');
});

it.each([
  [{ PORT: 'abc' }, 'PORT must be an integer from 0 to 65535, got "abc"'],
  [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL must be an absolute http(s) URL, got "not a url"'],
  [{ PUBLIC_URL: 'ftp://x.example' }, 'PUBLIC_URL must use http or https, got "ftp://x.example"'],
  [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
  [{ TARN_ADMIN_TOKEN: 'short' }, 'TARN_ADMIN_TOKEN must be at least 16 characters'],
  [{ TARN_MASTER_KEY: 'abcd' }, 'TARN_MASTER_KEY must be 32 bytes as 64 hex characters or base64url'],
  [{ NODE_ENV: 'production', TARN_MASTER_KEY: 'a'.repeat(64) }, 'TARN_ADMIN_TOKEN is required in production'],
  [{ NODE_ENV: 'production', TARN_ADMIN_TOKEN: 'x'.repeat(20) }, 'TARN_MASTER_KEY is required in production'],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud"'],
  [{ SMTP_URL: 'http://mail' }, 'SMTP_URL must start with smtp:// or smtps://'],
])('refuses %j with one clear message', (env, message) => {
  expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(new ConfigError(message));
});
