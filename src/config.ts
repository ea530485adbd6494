/**
 * Environment → validated, frozen, typed Config.
 *
 * Rules:
 * - every variable has a default in config/defaults.ts or is optional;
 * - a bad value stops the start with one clear line (ConfigError);
 * - in production TARN_ADMIN_TOKEN and TARN_MASTER_KEY are required; in development
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
  /** True when the admin token was generated for this run (printed once at start). */
  readonly adminTokenGenerated: boolean;
  /** 32 bytes: the key-encryption key for private keys and client secrets. */
  readonly masterKey: Buffer;
  readonly smtpUrl: string | undefined;
  /** Sender of invitations and codes: MAIL_FROM, or "Tarn <no-reply@{PUBLIC_URL host}>". */
  readonly mailFrom: string;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  readonly providerCacheSize: number;
  readonly providerCheckIntervalMs: number;
  readonly bodyLimitBytes: number;
  readonly passwordHashConcurrency: number;
  readonly rateLimitWindowMs: number;
  readonly rateLimitTokenFailures: number;
  readonly rateLimitLoginFailures: number;
  readonly rateLimitAdminFailures: number;
  readonly maxHeaderBytes: number;
  readonly shutdownGraceMs: number;
  readonly dbConnectTimeoutMs: number;
  /** Bearer token /metrics asks for; undefined: /metrics is open. */
  readonly metricsToken: string | undefined;
  /** Where Tarn's own outgoing calls (back-channel logout, …) may go: OUTGOING_NETWORKS, OUTGOING_TIMEOUT_MS. */
  readonly outgoing: OutgoingPolicy;
}

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

function decodeMasterKey(raw: string, source: string): Buffer {
  const trimmed = raw.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (key.length !== 32) {
    throw new ConfigError(`${source} must be 32 bytes as 64 hex characters or base64url`);
  }
  return key;
}

function masterKey(env: Env, mode: Config['env'], dataDir: string): Buffer {
  if (env.TARN_MASTER_KEY) return decodeMasterKey(env.TARN_MASTER_KEY, 'TARN_MASTER_KEY');
  if (mode === 'production') throw new ConfigError('TARN_MASTER_KEY is required in production');
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, 'utf8'), file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}

function adminToken(env: Env, mode: Config['env']): { token: string; generated: boolean } {
  const raw = env.TARN_ADMIN_TOKEN;
  if (raw) {
    if (raw.length < 16) throw new ConfigError('TARN_ADMIN_TOKEN must be at least 16 characters');
    return { token: raw, generated: false };
  }
  if (mode === 'production') throw new ConfigError('TARN_ADMIN_TOKEN is required in production');
  return { token: `tat_${randomBytes(24).toString('base64url')}`, generated: true };
}

function mode(env: Env): Config['env'] {
  const raw = env.NODE_ENV || 'development';
  if (raw !== 'production' && raw !== 'development' && raw !== 'test') {
    throw new ConfigError(`NODE_ENV must be production, development or test, got "${raw}"`);
  }
  return raw;
}

function smtpUrl(env: Env): string | undefined {
  const raw = env.SMTP_URL;
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
  const admin = adminToken(env, envMode);
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
    smtpUrl: smtpUrl(env),
    mailFrom: env.MAIL_FROM || `Tarn <no-reply@${new URL(publicUrl(env, port)).hostname}>`,
    logLevel,
    trustProxy: env.TRUST_PROXY === 'true' || env.TRUST_PROXY === '1',
    providerCacheSize: integer(env, 'PROVIDER_CACHE_SIZE', defaults.PROVIDER_CACHE_SIZE, 1, 1_000_000),
    providerCheckIntervalMs: integer(env, 'PROVIDER_CHECK_INTERVAL_MS', defaults.PROVIDER_CHECK_INTERVAL_MS, 0, 3_600_000),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', defaults.BODY_LIMIT_BYTES, 1024, 10 * 1024 * 1024),
    passwordHashConcurrency: integer(env, 'PASSWORD_HASH_CONCURRENCY', defaults.PASSWORD_HASH_CONCURRENCY, 1, 64),
    rateLimitWindowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', defaults.RATE_LIMIT_WINDOW_MS, 1000, 3_600_000),
    rateLimitTokenFailures: integer(env, 'RATE_LIMIT_TOKEN_FAILURES', defaults.RATE_LIMIT_TOKEN_FAILURES, 0, 1_000_000),
    rateLimitLoginFailures: integer(env, 'RATE_LIMIT_LOGIN_FAILURES', defaults.RATE_LIMIT_LOGIN_FAILURES, 0, 1_000_000),
    rateLimitAdminFailures: integer(env, 'RATE_LIMIT_ADMIN_FAILURES', defaults.RATE_LIMIT_ADMIN_FAILURES, 0, 1_000_000),
    maxHeaderBytes: integer(env, 'MAX_HEADER_BYTES', defaults.MAX_HEADER_BYTES, 1024, 1024 * 1024),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', defaults.SHUTDOWN_GRACE_MS, 0, 600_000),
    metricsToken: env.METRICS_TOKEN || undefined,
    dbConnectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', defaults.DB_CONNECT_TIMEOUT_MS, 100, 60_000),
    outgoing: outgoing(env),
  });
}
