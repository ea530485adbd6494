/**
 * The webhook delivery worker, one per instance (ADR 0809). It claims due deliveries of
 * every pool (delivery.queries.ts: FOR UPDATE SKIP LOCKED and a lease, so instances never
 * send the same claim twice and a dead instance's claims come back), sends them as Standard
 * Webhooks requests through the outgoing-network policy, and records each attempt.
 *
 * - It polls every `pollIntervalMs`, and wakes at once when this instance queued a delivery.
 * - A failed attempt is retried after base × 2^(attempt-1), capped, times a jitter of
 *   0.75 to 1.25; a delivery still failing `retryMaxAgeMs` after its event is given up.
 * - A webhook whose every attempt failed for `disableAfterMs` is disabled, and a
 *   `webhook.disabled` event says so (delivered to the pool's other webhooks that want it).
 * - Before claiming, at most once a poll, it runs the system's chores that write events (a
 *   lock that ran out is released and announced as `user.unlocked`).
 * - stop() lets the attempts in flight finish (each is bounded by the outgoing timeout).
 */
import type { AuditService } from '../audit/audit.service.js';
import type { WebhookSettings } from '../config.js';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import type { AuditEventRow } from '../db/tables.js';
import type { Logger } from '../log.js';
import type { OutgoingFetch } from '../net/outgoing-fetch.js';
import { claimDueDeliveries, loadDelivery, recordAttempt, type AttemptResult, type ClaimedDelivery } from './delivery.queries.js';
import { signedHeaders } from './signing.js';
import { sealContext } from './webhooks.service.js';

/** How many deliveries one claim takes, and so how many are in flight at most per instance. */
const BATCH = 16;
/** The part of a receiver's answer kept in the delivery log. */
export const RESPONSE_KEPT_BYTES = 1024;

export interface DeliveryWorkerDeps {
  db: Db;
  envelope: Envelope;
  /** The outgoing fetch (policy, timeout, capped answer) webhooks are sent with. */
  fetch: OutgoingFetch;
  /** The outgoing timeout: a claim's lease outlasts it. */
  timeoutMs: number;
  settings: WebhookSettings;
  audit: AuditService;
  log: Logger;
  onDelivery?: (outcome: 'delivered' | 'failed' | 'gave_up') => void;
  onDisabled?: () => void;
  random?: () => number;
  /**
   * What the system does on its own and announces with events, run at most once a poll interval
   * before claiming (every instance runs it; it must claim its work with SKIP LOCKED): the
   * release of locks that ran out (lockout.service.ts).
   */
  chores?: () => Promise<unknown>;
}

/** The delay before retry number `attempt` (1 for the first retry). */
export function retryDelayMs(attempt: number, settings: Pick<WebhookSettings, 'retryBaseMs' | 'retryMaxDelayMs'>, random = Math.random): number {
  const exponential = Math.min(settings.retryBaseMs * 2 ** Math.min(attempt - 1, 40), settings.retryMaxDelayMs);
  return Math.round(exponential * (0.75 + random() * 0.5));
}

/** The Standard Webhooks payload of an event: type, timestamp, data (docs/events.md). */
export function payloadOf(event: AuditEventRow): string {
  return JSON.stringify({
    type: event.action,
    timestamp: new Date(event.occurred_at).toISOString(),
    data: {
      id: event.id,
      pool: event.pool_id,
      outcome: event.outcome,
      actor: { kind: event.actor_kind, id: event.actor_id },
      subject: event.target_type ? { type: event.target_type, id: event.target_id } : null,
      status: event.status,
      requestId: event.request_id,
      details: event.details,
    },
  });
}

export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const { db, settings, log } = deps;
  const random = deps.random ?? Math.random;
  const leaseMs = deps.timeoutMs * 2 + 5000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  function pause(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function attempt(delivery: ClaimedDelivery): Promise<void> {
    const loaded = await loadDelivery(db, delivery);
    if (!loaded) return; // the webhook or the event was deleted meanwhile (cascade removes the delivery too)
    const { event, target } = loaded;
    const context = sealContext(delivery.pool_id, delivery.webhook_id);
    const secrets = [deps.envelope.open(target.secret_enc, context)];
    if (target.previous_secret_enc && target.previous_expires_at && new Date(target.previous_expires_at) > new Date()) {
      secrets.push(deps.envelope.open(target.previous_secret_enc, context));
    }
    const body = payloadOf(event);
    const startedAt = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Tarn-Webhooks',
      ...signedHeaders(secrets, event.id, Math.floor(startedAt.getTime() / 1000), body),
    };
    let result: AttemptResult;
    try {
      const answer = await deps.fetch(target.url, { method: 'POST', headers, body });
      const text = Buffer.from(await answer.arrayBuffer())
        .subarray(0, RESPONSE_KEPT_BYTES)
        .toString('utf8')
        .replaceAll('\u0000', '\ufffd');
      result = { startedAt, durationMs: Date.now() - startedAt.getTime(), statusCode: answer.status, error: null, response: text || null };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result = { startedAt, durationMs: Date.now() - startedAt.getTime(), statusCode: null, error: message.slice(0, 500), response: null };
    }
    const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    if (delivered) {
      await recordAttempt(db, delivery, result, { delivered: true });
      deps.onDelivery?.('delivered');
      return;
    }
    const delay = retryDelayMs(delivery.attempts, settings, random);
    const age = Date.now() - new Date(delivery.created_at).getTime();
    const retryInMs = age + delay > settings.retryMaxAgeMs ? undefined : delay;
    const { disabled } = await recordAttempt(db, delivery, result, { delivered: false, retryInMs, disableAfterMs: settings.disableAfterMs });
    deps.onDelivery?.(retryInMs === undefined ? 'gave_up' : 'failed');
    if (disabled) {
      deps.onDisabled?.();
      log.warn({ poolId: delivery.pool_id, webhookId: delivery.webhook_id }, 'webhook disabled: every attempt failed for too long');
      await deps.audit.record({
        poolId: delivery.pool_id,
        action: 'webhook.disabled',
        outcome: 'success',
        actor: { kind: 'system' },
        target: { type: 'webhook', id: delivery.webhook_id },
        details: { url: target.url, lastStatusCode: result.statusCode, lastError: result.error },
      });
    }
  }

  /** Claims and sends one batch; answers how many were claimed. */
  async function runOnce(): Promise<number> {
    const claimed = await claimDueDeliveries(db, BATCH, leaseMs);
    await Promise.all(
      claimed.map((delivery) =>
        attempt(delivery).catch((error: unknown) => {
          // The attempt's outcome could not be recorded (database away): its lease runs out and it is sent again.
          log.warn({ err: error, poolId: delivery.pool_id, deliveryId: delivery.id }, 'webhook attempt not recorded');
        }),
      ),
    );
    return claimed.length;
  }

  let choresDoneAt = 0;
  async function doChores(): Promise<void> {
    if (!deps.chores || Date.now() - choresDoneAt < settings.pollIntervalMs) return;
    choresDoneAt = Date.now();
    try {
      await deps.chores();
    } catch (error) {
      log.warn({ err: error }, 'the periodic chores failed; the next poll tries again');
    }
  }

  async function run(): Promise<void> {
    while (running) {
      await doChores();
      let claimed = 0;
      try {
        claimed = await runOnce();
      } catch (error) {
        log.warn({ err: error }, 'webhook deliveries could not be claimed');
      }
      if (claimed < BATCH && running) await pause(settings.pollIntervalMs);
    }
  }

  return {
    runOnce,
    start(): void {
      if (running) return;
      running = true;
      loop = run();
    },
    /** Something was queued: look now rather than at the next poll. */
    wake(): void {
      if (wakeUp) wakeUp();
      else woken = true;
    },
    /** Stops claiming; resolves when the attempts in flight are recorded. */
    async stop(): Promise<void> {
      running = false;
      wakeUp?.();
      await loop;
      loop = undefined;
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
