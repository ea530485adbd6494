/** TRUST_PROXY as a number of proxies, and who may read /metrics (METRICS_TOKEN), as loadConfig reads them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tarn-config-')) });
const production = {
  NODE_ENV: 'production',
  TARN_ADMIN_TOKEN: 'x7Kp2QvR9mWz4LtB8nYc',
  TARN_MASTER_KEY: '0937e1ea3b0bdb0c8d367fc083e95f8007c91be07e521627ba3f122419fe4875',
  SMTP_URL: 'smtp://mail.example.test',
};

it.each([
  [undefined, 0],
  ['', 0],
  ['false', 0],
  ['0', 0],
  ['1', 1],
  ['2', 2],
])('reads TRUST_PROXY=%j as %d trusted proxies', (value, hops) => {
  expect(loadConfig({ ...base(), ...(value === undefined ? {} : { TRUST_PROXY: value }) }).trustedProxies).toBe(hops);
});

it.each([
  ['true', 'TRUST_PROXY must be the number of reverse proxies in front of Tarn (1 for one proxy, 0 for none); "true" is ambiguous'],
  ['yes', 'TRUST_PROXY must be an integer from 0 to 10, got "yes"'],
  ['-1', 'TRUST_PROXY must be an integer from 0 to 10, got "-1"'],
])('refuses TRUST_PROXY=%j with one clear line', (value, message) => {
  expect(() => loadConfig({ ...base(), TRUST_PROXY: value })).toThrow(new ConfigError(message));
});

it('serves /metrics openly in development, not at all in production without a token, and as configured otherwise', () => {
  expect(loadConfig(base()).metrics).toEqual({ mode: 'open' });
  expect(loadConfig({ ...base(), ...production }).metrics).toEqual({ mode: 'off' });
  expect(loadConfig({ ...base(), ...production, METRICS_TOKEN: 'open' }).metrics).toEqual({ mode: 'open' });
  expect(loadConfig({ ...base(), ...production, METRICS_TOKEN: 'scrape-token-0123456789' }).metrics).toEqual({
    mode: 'token',
    token: 'scrape-token-0123456789',
  });
});
