/**
 * What the delivery workers of every instance share: the due deliveries of all pools.
 * These statements are about no pool in particular (a worker serves them all); each row
 * they touch is named by its full key (pool_id, id), and the joins bind pool_id on both sides.
 * Times come from the database's clock, so instances with skewed clocks agree.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditEventRow, WebhookDeliveryRow } from '../db/tables.js';

export interface ClaimedDelivery {
  pool_id: string;
  id: string;
  webhook_id: string;
  event_id: string;
  attempts: number;
  created_at: Date;
}

export interface DeliveryTarget {
  url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_expires_at: Date | null;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs`: rows another worker is claiming right
 * now are skipped (FOR UPDATE SKIP LOCKED), and a claim whose worker died is free again once
 * its lease ran out. Deliveries of a disabled webhook wait.
 */
export async function claimDueDeliveries(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const result = await sql<ClaimedDelivery>`
    UPDATE webhook_deliveries d
    SET locked_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = d.attempts + 1
    FROM (
      SELECT due.pool_id, due.id FROM webhook_deliveries due
      JOIN webhooks w ON w.pool_id = due.pool_id AND w.id = due.webhook_id
      WHERE due.status = 'pending' AND due.next_attempt_at <= now()
        AND (due.locked_until IS NULL OR due.locked_until < now()) AND w.enabled
      ORDER BY due.next_attempt_at
      LIMIT ${limit}
      FOR UPDATE OF due SKIP LOCKED
    ) claimed
    WHERE d.pool_id = claimed.pool_id AND d.id = claimed.id
    RETURNING d.pool_id, d.id, d.webhook_id, d.event_id, d.attempts, d.created_at`.execute(db);
  return result.rows;
}

export async function loadDelivery(db: Db, delivery: ClaimedDelivery): Promise<{ event: AuditEventRow; target: DeliveryTarget } | undefined> {
  const event = await db.selectFrom('audit_events').selectAll().where('pool_id', '=', delivery.pool_id).where('id', '=', delivery.event_id).executeTakeFirst();
  const target = await db
    .selectFrom('webhooks')
    .select(['url', 'secret_enc', 'previous_secret_enc', 'previous_expires_at'])
    .where('pool_id', '=', delivery.pool_id)
    .where('id', '=', delivery.webhook_id)
    .executeTakeFirst();
  return event && target ? { event, target } : undefined;
}

export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  response: string | null;
}

/**
 * Records an attempt and its consequence in one transaction: delivered; or retried in
 * `retryInMs`; or given up (retryInMs undefined). A failure marks the webhook failing (since
 * its first failure) and disables it once it has failed for `disableAfterMs`; answers
 * whether this attempt disabled it.
 */
export async function recordAttempt(
  db: Db,
  delivery: ClaimedDelivery,
  result: AttemptResult,
  outcome: { delivered: true } | { delivered: false; retryInMs: number | undefined; disableAfterMs: number },
): Promise<{ disabled: boolean }> {
  return db.transaction().execute(async (trx) => {
    const key = { pool_id: delivery.pool_id, id: delivery.id };
    await trx
      .insertInto('webhook_attempts')
      .values({
        pool_id: delivery.pool_id,
        delivery_id: delivery.id,
        attempt: delivery.attempts,
        started_at: result.startedAt,
        duration_ms: result.durationMs,
        status_code: result.statusCode,
        error: result.error,
        response: result.response,
      })
      // A lease that ran out mid-attempt lets another worker record the same attempt number: keep the first.
      .onConflict((conflict) => conflict.doNothing())
      .execute();
    const last = { last_status_code: result.statusCode, last_duration_ms: result.durationMs, last_error: result.error, locked_until: null };
    const webhook = trx.updateTable('webhooks').where('pool_id', '=', delivery.pool_id).where('id', '=', delivery.webhook_id);
    if (outcome.delivered) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ ...last, status: 'delivered', delivered_at: sql<Date>`now()`, next_attempt_at: null })
        .where('pool_id', '=', key.pool_id)
        .where('id', '=', key.id)
        .execute();
      await webhook.set({ failing_since: null }).where('failing_since', 'is not', null).execute();
      return { disabled: false };
    }
    const retry = outcome.retryInMs;
    await trx
      .updateTable('webhook_deliveries')
      .set(
        retry === undefined
          ? { ...last, status: 'failed', next_attempt_at: null }
          : { ...last, next_attempt_at: sql<Date>`now() + make_interval(secs => ${retry / 1000})` },
      )
      .where('pool_id', '=', key.pool_id)
      .where('id', '=', key.id)
      .where('status', '=', 'pending')
      .execute();
    await webhook.set({ failing_since: sql<Date>`coalesce(failing_since, now())` }).execute();
    const disabled = await trx
      .updateTable('webhooks')
      .set({ enabled: false, disabled_reason: 'Every delivery attempt failed for too long.', updated_at: sql<Date>`now()` })
      .where('pool_id', '=', delivery.pool_id)
      .where('id', '=', delivery.webhook_id)
      .where('enabled', '=', true)
      .where('failing_since', '<=', sql<Date>`now() - make_interval(secs => ${outcome.disableAfterMs / 1000})`)
      .returning('id')
      .executeTakeFirst();
    return { disabled: disabled !== undefined };
  });
}

export type { WebhookDeliveryRow };
