/**
 * Pool-change notifications between Tarn instances on one PostgreSQL (ADR 0801).
 * - publish(poolId): `pg_notify('tarn_pool_changed', '<instance>:<poolId>')` after the
 *   change committed; every other instance drops that pool's provider at once.
 * - A dedicated connection LISTENs; when it drops it reconnects with backoff, and on
 *   reconnecting everything cached is dropped (notifications may have been missed).
 * - The registry's version check (PROVIDER_CHECK_INTERVAL_MS) stays the fallback bound
 *   when a notification is lost (listener down, publish failed).
 * PGlite is one process: there is nobody to tell, so nothing is started there.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../log.js';

export const POOL_CHANGE_CHANNEL = 'tarn_pool_changed';

export interface PoolChangeHandlers {
  /** Another instance changed this pool. */
  changed(poolId: string): void;
  /** Notifications may have been missed (the listener was away): forget everything. */
  reset(): void;
}

export interface PoolChangeFeed {
  publish(poolId: string): void;
  close(): Promise<void>;
  /** True while the LISTEN connection is up. */
  listening(): boolean;
}

export interface PoolChangeFeedOptions {
  databaseUrl: string;
  log: Logger;
  handlers: PoolChangeHandlers;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export function startPoolChangeFeed(options: PoolChangeFeedOptions): PoolChangeFeed {
  const instance = randomBytes(6).toString('hex');
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  let listener: pg.Client | undefined;
  let connected = false;
  let closed = false;
  let backoff = minBackoff;
  let timer: NodeJS.Timeout | undefined;
  let everConnected = false;
  // Publishing uses its own lazily opened connection: never a pooled one that a request needs.
  let publisher: pg.Client | undefined;
  let publisherReady: Promise<pg.Client> | undefined;

  function scheduleReconnect(): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, backoff);
    timer.unref();
    backoff = Math.min(backoff * 2, maxBackoff);
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 2000, keepAlive: true });
    const lost = () => {
      if (listener !== client) return;
      listener = undefined;
      // Said once per outage, not once per attempt.
      if (connected && !closed) options.log.warn('pool change listener lost its connection; reconnecting');
      connected = false;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      const payload = message.payload ?? '';
      const colon = payload.indexOf(':');
      if (colon < 0 || payload.slice(0, colon) === instance) return;
      options.handlers.changed(payload.slice(colon + 1));
    });
    listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${POOL_CHANGE_CHANNEL}`);
      if (closed) {
        await client.end().catch(() => {});
        return;
      }
      connected = true;
      backoff = minBackoff;
      // What changed while nobody listened is unknown: start again from the database.
      if (everConnected) {
        options.handlers.reset();
        options.log.info('pool change listener reconnected; cached providers dropped');
      }
      everConnected = true;
    } catch {
      lost();
    }
  }

  function getPublisher(): Promise<pg.Client> {
    if (!publisherReady) {
      const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 2000, keepAlive: true });
      publisher = client;
      const drop = () => {
        if (publisher === client) {
          publisher = undefined;
          publisherReady = undefined;
        }
        client.end().catch(() => {});
      };
      client.on('error', drop);
      client.on('end', drop);
      publisherReady = client.connect().then(
        () => client,
        (error: unknown) => {
          drop();
          throw error;
        },
      );
    }
    return publisherReady;
  }

  void connect();

  return {
    publish(poolId: string): void {
      if (closed) return;
      getPublisher()
        .then((client) => client.query('SELECT pg_notify($1, $2)', [POOL_CHANGE_CHANNEL, `${instance}:${poolId}`]))
        .catch((error: unknown) => {
          // Other instances still see the change through the version check, within its interval.
          options.log.warn({ err: error, poolId }, 'pool change not published');
        });
    },
    listening: () => connected,
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      const clients = [listener, publisher];
      listener = undefined;
      publisher = undefined;
      publisherReady = undefined;
      await Promise.all(clients.filter((client) => client !== undefined).map((client) => client.end().catch(() => {})));
    },
  };
}
