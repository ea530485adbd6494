/**
 * Environment → validated, frozen, typed Config.
 *
 * Rules:
 * - every variable has a default in config/defaults.ts or is optional;
 * - a bad value stops the start with one clear line (ConfigError);
 * - in production TARN_ADMIN_TOKEN, TARN_MASTER_KEY and SMTP_URL are required, and secrets
 *   that repeat a few symbols are refused; in development
 *   they are generated (the master key once, into DATA_DIR, so restarts can still
 *   decrypt what was encrypted before).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaults } from '../config/defaults.js';
import { createOutgoingPolicy, OutgoingPolicyError, type OutgoingPolicy } from './net/outgoing-policy.js';

export interface Config {
  readonly env: 'production' | 'development' | 'test';
  readonly port: number;
  readonly publicUrl: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly adminToken: string;
  /** True when the admin token was generated (outside production, once, into DATA_DIR/admin.token) rather than set. */
  readonly adminTokenGenerated: boolean;
  /** 32 bytes: the key-encryption key for private keys and client secrets. */
  readonly masterKey: Buffer;
  readonly smtpUrl: string | undefined;
  /** Sender of invitations and codes: MAIL_FROM, or "Tarn <no-reply@{PUBLIC_URL host}>". */
  readonly mailFrom: string;
  readonly logLevel: string;
  /**
   * Reverse proxies in front of Tarn whose X-Forwarded-* headers are believed (0: none).
   * The client address is the X-Forwarded-For entry the outermost of them appended.
   */
  readonly trustedProxies: number;
  readonly providerCacheSize: number;
  readonly providerCheckIntervalMs: number;
  readonly bodyLimitBytes: number;
  readonly passwordHashConcurrency: number;
  readonly rateLimitWindowMs: number;
  readonly rateLimitTokenFailures: number;
  readonly rateLimitLoginFailures: number;
  readonly rateLimitLoginWindowMs: number;
  readonly rateLimitAdminFailures: number;
  readonly maxHeaderBytes: number;
  readonly shutdownGraceMs: number;
  /** Longest time to receive a whole request (REQUEST_TIMEOUT_MS); streaming admin routes are exempt (http/request-deadline.ts). */
  readonly requestTimeoutMs: number;
  readonly dbConnectTimeoutMs: number;
  /** Who may read /metrics (METRICS_TOKEN). */
  readonly metrics: MetricsAccess;
  /** Where Tarn's own outgoing calls (back-channel logout, …) may go: OUTGOING_NETWORKS, OUTGOING_TIMEOUT_MS. */
  readonly outgoing: OutgoingPolicy;
  /** Webhook delivery (ADR 0809): WEBHOOK_* variables. */
  readonly webhooks: WebhookSettings;
}

export interface WebhookSettings {
  readonly pollIntervalMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;
  readonly retryMaxAgeMs: number;
  readonly disableAfterMs: number;
}

/** /metrics for anyone, for holders of a bearer token, or for nobody (404). */
export type MetricsAccess = { readonly mode: 'open' } | { readonly mode: 'off' } | { readonly mode: 'token'; readonly token: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function publicUrl(env: Env, port: number): string {
  // Without PUBLIC_URL, the default follows PORT so a local start on another port still works.
  const raw = env.PUBLIC_URL || (env.PORT ? `http://localhost:${port}` : defaults.PUBLIC_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`PUBLIC_URL must use http or https, got "${raw}"`);
  }
  if (url.search || url.hash) throw new ConfigError('PUBLIC_URL must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (!raw) return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  return raw;
}

/**
 * Bits of a secret as its own symbols suggest: length × the Shannon entropy of its symbol
 * frequencies. It cannot see a dictionary word, but it exposes the values people type when
 * they are in a hurry ("aaaa…", "0000…", "abab…"), which is what production must refuse.
 */
export function estimatedBits(symbols: ArrayLike<number | string>): number {
  const counts = new Map<number | string, number>();
  for (let i = 0; i < symbols.length; i += 1) counts.set(symbols[i]!, (counts.get(symbols[i]!) ?? 0) + 1);
  let perSymbol = 0;
  for (const count of counts.values()) perSymbol -= (count / symbols.length) * Math.log2(count / symbols.length);
  return symbols.length * perSymbol;
}

/** 32 random bytes estimate at about 150 bits; a quarter of the bytes repeating still passes. */
const MASTER_KEY_MIN_BITS = 128;
/** A 32-character hex or 22-character base64url random token estimates above this. */
const ADMIN_TOKEN_MIN_BITS = 64;

/** Exactly 64 hex characters, or exactly 43 base64url characters that encode 32 bytes canonically. */
function decodeMasterKey(raw: string, source: string): Buffer {
  const trimmed = raw.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  // Node's base64url decoder skips characters outside the alphabet and ignores stray low bits,
  // so a typo would silently become another key: only the canonical 43-character form is accepted.
  const key = /^[A-Za-z0-9_-]{43}$/.test(trimmed) ? Buffer.from(trimmed, 'base64url') : undefined;
  if (!key || key.length !== 32 || key.toString('base64url') !== trimmed) {
    throw new ConfigError(`${source} must be 32 bytes as 64 hex characters or 43 base64url characters`);
  }
  return key;
}

function masterKey(env: Env, mode: Config['env'], dataDir: string): Buffer {
  if (env.TARN_MASTER_KEY) {
    const key = decodeMasterKey(env.TARN_MASTER_KEY, 'TARN_MASTER_KEY');
    if (mode === 'production' && estimatedBits(key) < MASTER_KEY_MIN_BITS) {
      throw new ConfigError('TARN_MASTER_KEY is too predictable for production (repeated bytes); generate one with `openssl rand -hex 32`');
    }
    return key;
  }
  if (mode === 'production') throw new ConfigError('TARN_MASTER_KEY is required in production');
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, 'utf8'), file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}

function adminToken(env: Env, mode: Config['env'], dataDir: string): { token: string; generated: boolean } {
  const raw = env.TARN_ADMIN_TOKEN;
  if (raw) {
    if (raw.length < 16) throw new ConfigError('TARN_ADMIN_TOKEN must be at least 16 characters');
    if (mode === 'production' && estimatedBits([...raw]) < ADMIN_TOKEN_MIN_BITS) {
      throw new ConfigError('TARN_ADMIN_TOKEN is too predictable for production (too few distinct characters); generate one with `openssl rand -base64 32`');
    }
    return { token: raw, generated: false };
  }
  if (mode === 'production') throw new ConfigError('TARN_ADMIN_TOKEN is required in production');
  // Outside production, generated once and kept beside the master key, so a restart keeps it.
  const file = join(dataDir, 'admin.token');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length < 16) throw new ConfigError(`${file} must hold a token of at least 16 characters (delete it to have a new one generated)`);
    return { token: kept, generated: true };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = `tat_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return { token, generated: true };
}

/**
 * TRUST_PROXY: how many proxies stand between the clients and Tarn (as Express's
 * `trust proxy` number). `true` is refused: it used to mean "believe every hop", which lets
 * a client choose its own address by sending X-Forwarded-For, and only the operator knows
 * how many hops there are.
 */
function trustedProxies(env: Env): number {
  const raw = (env.TRUST_PROXY ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false') return 0;
  if (raw === 'true') {
    throw new ConfigError('TRUST_PROXY must be the number of reverse proxies in front of Tarn (1 for one proxy, 0 for none); "true" is ambiguous');
  }
  return integer({ TRUST_PROXY: raw }, 'TRUST_PROXY', 0, 0, 10);
}

/**
 * METRICS_TOKEN: a bearer token for /metrics; `open` serves it to anyone. Unset, it is open
 * in development and off in production: counts, latencies and route names tell an outsider
 * how busy and how built the deployment is, so exposing them takes an explicit choice.
 */
function metricsAccess(env: Env, envMode: Config['env']): MetricsAccess {
  const raw = env.METRICS_TOKEN;
  if (raw === 'open') return { mode: 'open' };
  if (raw) return { mode: 'token', token: raw };
  return envMode === 'production' ? { mode: 'off' } : { mode: 'open' };
}

function mode(env: Env): Config['env'] {
  const raw = env.NODE_ENV || 'development';
  if (raw !== 'production' && raw !== 'development' && raw !== 'test') {
    throw new ConfigError(`NODE_ENV must be production, development or test, got "${raw}"`);
  }
  return raw;
}

function smtpUrl(env: Env, mode: Config['env']): string | undefined {
  const raw = env.SMTP_URL;
  // Without a transport, mail (codes, invitation links) could only go to the log, which is no place for secrets.
  if (!raw && mode === 'production') throw new ConfigError('SMTP_URL is required in production: invitations and sign-in codes must be mailed, not logged');
  if (!raw) return undefined;
  if (!/^smtps?:\/\//.test(raw)) throw new ConfigError('SMTP_URL must start with smtp:// or smtps://');
  return raw;
}

function outgoing(env: Env): OutgoingPolicy {
  const timeoutMs = integer(env, 'OUTGOING_TIMEOUT_MS', defaults.OUTGOING_TIMEOUT_MS, 100, 60_000);
  try {
    return createOutgoingPolicy(env.OUTGOING_NETWORKS || defaults.OUTGOING_NETWORKS, timeoutMs);
  } catch (error) {
    if (error instanceof OutgoingPolicyError) throw new ConfigError(`OUTGOING_NETWORKS: ${error.message}`);
    throw error;
  }
}

export function loadConfig(env: Env = process.env): Config {
  const envMode = mode(env);
  const dataDir = resolve(env.DATA_DIR || defaults.DATA_DIR);
  const dbUrl = databaseUrl(env);
  const admin = adminToken(env, envMode, dataDir);
  const logLevel = env.LOG_LEVEL || defaults.LOG_LEVEL;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }
  const port = integer(env, 'PORT', defaults.PORT, 0, 65535);
  return Object.freeze({
    env: envMode,
    port,
    publicUrl: publicUrl(env, port),
    databaseUrl: dbUrl,
    dataDir,
    adminToken: admin.token,
    adminTokenGenerated: admin.generated,
    masterKey: masterKey(env, envMode, dataDir),
    smtpUrl: smtpUrl(env, envMode),
    mailFrom: env.MAIL_FROM || `Tarn <no-reply@${new URL(publicUrl(env, port)).hostname}>`,
    logLevel,
    trustedProxies: trustedProxies(env),
    providerCacheSize: integer(env, 'PROVIDER_CACHE_SIZE', defaults.PROVIDER_CACHE_SIZE, 1, 1_000_000),
    providerCheckIntervalMs: integer(env, 'PROVIDER_CHECK_INTERVAL_MS', defaults.PROVIDER_CHECK_INTERVAL_MS, 0, 3_600_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', defaults.BODY_LIMIT_BYTES, 1024, 10 * 1024 * 1024),
    passwordHashConcurrency: integer(env, 'PASSWORD_HASH_CONCURRENCY', defaults.PASSWORD_HASH_CONCURRENCY, 1, 64),
    rateLimitWindowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', defaults.RATE_LIMIT_WINDOW_MS, 1000, 3_600_000),
    rateLimitTokenFailures: integer(env, 'RATE_LIMIT_TOKEN_FAILURES', defaults.RATE_LIMIT_TOKEN_FAILURES, 0, 1_000_000),
    rateLimitLoginFailures: integer(env, 'RATE_LIMIT_LOGIN_FAILURES', defaults.RATE_LIMIT_LOGIN_FAILURES, 0, 1_000_000),
    rateLimitLoginWindowMs: integer(env, 'RATE_LIMIT_LOGIN_WINDOW_MS', defaults.RATE_LIMIT_LOGIN_WINDOW_MS, 1000, 24 * 3_600_000),
    rateLimitAdminFailures: integer(env, 'RATE_LIMIT_ADMIN_FAILURES', defaults.RATE_LIMIT_ADMIN_FAILURES, 0, 1_000_000),
    maxHeaderBytes: integer(env, 'MAX_HEADER_BYTES', defaults.MAX_HEADER_BYTES, 1024, 1024 * 1024),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', defaults.SHUTDOWN_GRACE_MS, 0, 600_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', defaults.REQUEST_TIMEOUT_MS, 100, 3_600_000),
    metrics: metricsAccess(env, envMode),
    dbConnectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', defaults.DB_CONNECT_TIMEOUT_MS, 100, 60_000),
    outgoing: outgoing(env),
    webhooks: Object.freeze({
      pollIntervalMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', defaults.WEBHOOK_POLL_INTERVAL_MS, 10, 3_600_000),
      retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', defaults.WEBHOOK_RETRY_BASE_MS, 10, 3_600_000),
      retryMaxDelayMs: integer(env, 'WEBHOOK_RETRY_MAX_DELAY_MS', defaults.WEBHOOK_RETRY_MAX_DELAY_MS, 10, 24 * 3_600_000),
      retryMaxAgeMs: integer(env, 'WEBHOOK_RETRY_MAX_AGE_MS', defaults.WEBHOOK_RETRY_MAX_AGE_MS, 100, 30 * 24 * 3_600_000),
      disableAfterMs: integer(env, 'WEBHOOK_DISABLE_AFTER_MS', defaults.WEBHOOK_DISABLE_AFTER_MS, 100, 30 * 24 * 3_600_000),
    }),
  });
}
