/**
 * Defaults for every setting that the environment may override (docs/design.md#configuration).
 * Kept apart from the parsing code so an operator can read them in one place.
 */
import { availableParallelism } from 'node:os';

export const defaults = {
  PORT: 3000,
  PUBLIC_URL: 'http://localhost:3000',
  DATA_DIR: './data',
  LOG_LEVEL: 'info',
  /** Providers kept in memory at once (one per recently used pool). */
  PROVIDER_CACHE_SIZE: 500,
  /** How often a cached provider re-checks its pool's version in the database (ms). */
  PROVIDER_CHECK_INTERVAL_MS: 2000,
  /** Largest request body accepted by the admin API and hosted forms (bytes). */
  BODY_LIMIT_BYTES: 64 * 1024,
  /**
   * Concurrent argon2id computations: one per core but one (ADR 0704). The core left over
   * keeps the event loop, the database driver and token issuance going during a burst of
   * sign-ins; more hashes would only queue on the CPU and starve them.
   */
  PASSWORD_HASH_CONCURRENCY: Math.max(1, availableParallelism() - 1),
  /** Window of the failure-based rate limits, per client IP and instance (ms; ADR 0802). */
  RATE_LIMIT_WINDOW_MS: 60_000,
  /** Failed token requests per window and IP before 429 (0: off). */
  RATE_LIMIT_TOKEN_FAILURES: 120,
  /**
   * Failed hosted sign-ins (wrong password, emailed code, registration code …) per IP within
   * RATE_LIMIT_LOGIN_WINDOW_MS before 429 (0: off). The one per-IP sign-in limit (ADR 0802);
   * per-user lockout is the pool's `lockout` setting.
   */
  RATE_LIMIT_LOGIN_FAILURES: 30,
  /** Window of the sign-in failure limit (ms): longer than the others, since guessing is slow and patient. */
  RATE_LIMIT_LOGIN_WINDOW_MS: 15 * 60_000,
  /** Refused admin credentials per window and IP before 429 (0: off). */
  RATE_LIMIT_ADMIN_FAILURES: 60,
  /** Largest request header section accepted (bytes); larger gets 431. */
  MAX_HEADER_BYTES: 16 * 1024,
  /** How long SIGTERM waits for in-flight requests before cutting them off (ms). */
  SHUTDOWN_GRACE_MS: 10_000,
  /** Longest time to receive a whole request (ms); an authenticated streaming import is exempt. */
  REQUEST_TIMEOUT_MS: 30_000,
  /** How long a request waits for a database connection before failing with 503 (ms). */
  DB_CONNECT_TIMEOUT_MS: 2000,
  /** Networks Tarn's own outgoing calls may reach (src/net/outgoing-policy.ts): public addresses only. */
  OUTGOING_NETWORKS: 'public',
  /** Longest outgoing call (back-channel logout, …), connection to last byte (ms). */
  OUTGOING_TIMEOUT_MS: 5000,
  /** How often each instance's webhook worker looks for due deliveries (ms); an event written here wakes it at once. */
  WEBHOOK_POLL_INTERVAL_MS: 1000,
  /** The first retry's delay (ms); each later one doubles, with jitter, up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  WEBHOOK_RETRY_BASE_MS: 10_000,
  WEBHOOK_RETRY_MAX_DELAY_MS: 4 * 3600_000,
  /** A delivery still failing this long after its event is given up (ms): about a day. */
  WEBHOOK_RETRY_MAX_AGE_MS: 24 * 3600_000,
  /** A webhook whose every attempt failed for this long is disabled (ms). */
  WEBHOOK_DISABLE_AFTER_MS: 24 * 3600_000,
} as const;
