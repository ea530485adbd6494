/**
 * The webhooks of one pool, their deliveries and attempts. Every statement is bound to the
 * pool (db/pool-scoped.ts); the join with the events binds `pool_id` on both sides.
 */
import type { Db } from '../db/database.js';
import { poolScoped, type NewPoolRow } from '../db/pool-scoped.js';
import type { DeliveryStatus, WebhookAttemptRow, WebhookDeliveryRow, WebhookTable } from '../db/tables.js';
import type { Updateable } from 'kysely';

export type DeliveryWithType = WebhookDeliveryRow & { event_type: string };

export function createWebhookQueries(db: Db, poolId: string) {
  const pool = poolScoped(db, poolId);
  return {
    insertWebhook(row: NewPoolRow<'webhooks'>) {
      return pool.insertInto('webhooks', row).returningAll().executeTakeFirstOrThrow();
    },

    findWebhook(id: string) {
      return pool.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** By id; `after` is the last id of the previous page. */
    listWebhooks(limit: number, after: string | undefined) {
      let query = pool.selectFrom('webhooks').selectAll().orderBy('id').limit(limit);
      if (after !== undefined) query = query.where('id', '>', after);
      return query.execute();
    },

    updateWebhook(id: string, change: Omit<Updateable<WebhookTable>, 'pool_id' | 'id'>) {
      return pool
        .updateTable('webhooks')
        .set({ ...change, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async deleteWebhook(id: string): Promise<boolean> {
      const result = await pool.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** Newest first; `before` is the last id of the previous page. */
    listDeliveries(webhookId: string, status: DeliveryStatus | undefined, limit: number, before: string | undefined): Promise<DeliveryWithType[]> {
      let query = pool.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('audit_events as e', (join) => join.onRef('e.pool_id', '=', 'd.pool_id').onRef('e.id', '=', 'd.event_id'))
        .selectAll('d')
        .select('e.action as event_type')
        .where('d.pool_id', '=', poolId)
        .where('e.pool_id', '=', poolId)
        .where('d.webhook_id', '=', webhookId)
        .orderBy('d.id', 'desc')
        .limit(limit);
      if (before !== undefined) query = query.where('d.id', '<', before);
      if (status !== undefined) query = query.where('d.status', '=', status);
      return query.execute();
    },

    findDelivery(webhookId: string, deliveryId: string) {
      return pool.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('id', '=', deliveryId).executeTakeFirst();
    },

    listAttempts(deliveryIds: string[]): Promise<WebhookAttemptRow[]> {
      if (deliveryIds.length === 0) return Promise.resolve([]);
      return pool.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('delivery_id').orderBy('attempt').execute();
    },

    /** A new delivery of a past event to one webhook (a redelivery): due now. */
    insertDelivery(row: { id: string; webhook_id: string; event_id: string }) {
      const now = new Date();
      return pool
        .insertInto('webhook_deliveries', { ...row, next_attempt_at: now, created_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
    },
  };
}

export type WebhookQueries = ReturnType<typeof createWebhookQueries>;
