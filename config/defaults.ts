/**
 * Defaults for every setting that the environment may override (DESIGN.md, "Configuration").
 * Kept apart from the parsing code so an operator can read them in one place.
 */
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
  /** Concurrent argon2id computations; more would only queue on the CPU and starve token issuance. */
  PASSWORD_HASH_CONCURRENCY: 2,
} as const;
