/** Configuration: defaults, generated development secrets, and one clear line per mistake. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'tarn-config-'));
const strongKey = randomBytes(32).toString('hex');
const strongToken = randomBytes(24).toString('base64url');
const weakToken = 'TARN_ADMIN_TOKEN is too predictable for production (too few distinct characters); generate one with `openssl rand -base64 32`';
const weakKey = 'TARN_MASTER_KEY is too predictable for production (repeated bytes); generate one with `openssl rand -hex 32`';

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
  [{ TARN_MASTER_KEY: 'abcd' }, 'TARN_MASTER_KEY must be 32 bytes as 64 hex characters or 43 base64url characters'],
  // Characters outside the base64url alphabet used to be skipped, decoding a typo into another key.
  [
    { TARN_MASTER_KEY: `${randomBytes(32).toString('base64url').slice(0, 42)}!` },
    'TARN_MASTER_KEY must be 32 bytes as 64 hex characters or 43 base64url characters',
  ],
  [
    { TARN_MASTER_KEY: `${randomBytes(32).toString('base64url').slice(0, 20)}.${randomBytes(32).toString('base64url').slice(0, 23)}` },
    'TARN_MASTER_KEY must be 32 bytes as 64 hex characters or 43 base64url characters',
  ],
  [{ NODE_ENV: 'production', TARN_MASTER_KEY: strongKey, SMTP_URL: 'smtp://mail' }, 'TARN_ADMIN_TOKEN is required in production'],
  [{ NODE_ENV: 'production', TARN_ADMIN_TOKEN: strongToken, SMTP_URL: 'smtp://mail' }, 'TARN_MASTER_KEY is required in production'],
  [
    { NODE_ENV: 'production', TARN_ADMIN_TOKEN: strongToken, TARN_MASTER_KEY: strongKey },
    'SMTP_URL is required in production: invitations and sign-in codes must be mailed, not logged',
  ],
  [{ NODE_ENV: 'production', TARN_ADMIN_TOKEN: 'a'.repeat(16), TARN_MASTER_KEY: strongKey, SMTP_URL: 'smtp://mail' }, weakToken],
  [{ NODE_ENV: 'production', TARN_ADMIN_TOKEN: 'password12345678', TARN_MASTER_KEY: strongKey, SMTP_URL: 'smtp://mail' }, weakToken],
  [{ NODE_ENV: 'production', TARN_ADMIN_TOKEN: strongToken, TARN_MASTER_KEY: '0'.repeat(64), SMTP_URL: 'smtp://mail' }, weakKey],
  [{ NODE_ENV: 'production', TARN_ADMIN_TOKEN: strongToken, TARN_MASTER_KEY: 'ab'.repeat(32), SMTP_URL: 'smtp://mail' }, weakKey],
  [{ RATE_LIMIT_LOGIN_WINDOW_MS: '10' }, 'RATE_LIMIT_LOGIN_WINDOW_MS must be an integer from 1000 to 86400000, got "10"'],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud"'],
  [{ SMTP_URL: 'http://mail' }, 'SMTP_URL must start with smtp:// or smtps://'],
])('refuses %j with one clear message', (env, message) => {
  expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(new ConfigError(message));
});

it('starts in production with random secrets and a mail transport, in either key encoding', () => {
  for (const key of [randomBytes(32).toString('hex'), randomBytes(32).toString('base64url')]) {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      NODE_ENV: 'production',
      TARN_ADMIN_TOKEN: randomBytes(16).toString('hex'),
      TARN_MASTER_KEY: key,
      SMTP_URL: 'smtp://mail.example:25',
    });
    expect(config.masterKey).toHaveLength(32);
  }
});

it('development accepts weak secrets (they protect nothing real) and runs without SMTP_URL', () => {
  const config = loadConfig({ DATA_DIR: dataDir(), TARN_ADMIN_TOKEN: 'a'.repeat(16), TARN_MASTER_KEY: '0'.repeat(64) });
  expect(config.smtpUrl).toBeUndefined();
});
