/**
 * The pool's webhooks (ADR 0809): where events go, which types, and the signing secret
 * (Standard Webhooks `whsec_…`, sealed at rest, shown once at creation and at rotation).
 * A rotation keeps the replaced secret signing for a grace period; deliveries then carry
 * both signatures. The delivery log, test events and redeliveries are here too; sending is
 * the worker's (delivery.worker.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { changeWithEvents, type AuditRequestScope, type AuditService, type RecordChange } from '../audit/audit.service.js';
import type { Envelope } from '../crypto/envelope.js';
import type { Db } from '../db/database.js';
import type { WebhookAttemptRow, WebhookRow } from '../db/tables.js';
import { isUuid } from '../http/ids.js';
import { toPage, type Page } from '../http/pagination.js';
import { fieldError, problems } from '../http/problem.js';
import type { OutgoingPolicy } from '../net/outgoing-policy.js';
import { newSigningSecret } from './signing.js';
import { showSecret } from '../http/shown-secret.js';
import type { CreateWebhookInput, ListDeliveriesQuery, ListWebhooksQuery, UpdateWebhookInput } from './webhooks.schemas.js';
import { createWebhookQueries, type DeliveryWithType } from './webhooks.queries.js';

/** How long a replaced secret keeps signing by default: one day. */
export const DEFAULT_GRACE_SECONDS = 24 * 3600;

export interface WebhookServiceDeps {
  db: Db;
  envelope: Envelope;
  outgoing: Pick<OutgoingPolicy, 'refusalForUrl'>;
  audit: AuditService;
  /** Tells this instance's worker that a delivery is due (a redelivery). */
  wake?: () => void;
  clock?: () => Date;
}

export function sealContext(poolId: string, webhookId: string): string {
  return `webhook-secret:${poolId}:${webhookId}`;
}

export function toWebhookResponse(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    previousSecretExpiresAt: row.previous_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type WebhookResponse = ReturnType<typeof toWebhookResponse>;

function toDeliveryResponse(row: DeliveryWithType, attempts: WebhookAttemptRow[]) {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastStatusCode: row.last_status_code,
    lastDurationMs: row.last_duration_ms,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    attemptLog: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      startedAt: attempt.started_at,
      durationMs: attempt.duration_ms,
      statusCode: attempt.status_code,
      error: attempt.error,
      response: attempt.response,
    })),
  };
}

const webhookNotFound = () => problems.notFound('Webhook');

export function createWebhookService({ db, envelope, outgoing, audit, wake, clock = () => new Date() }: WebhookServiceDeps) {
  function checkUrl(url: string): void {
    const refusal = outgoing.refusalForUrl(url);
    if (refusal) throw problems.validation([fieldError('url', `Tarn may not send requests there: ${refusal}.`)]);
  }

  async function rowOf(poolId: string, webhookId: string): Promise<WebhookRow> {
    if (!isUuid(webhookId)) throw webhookNotFound();
    const row = await createWebhookQueries(db, poolId).findWebhook(webhookId);
    if (!row) throw webhookNotFound();
    return row;
  }

  return {
    async createWebhook(poolId: string, input: CreateWebhookInput, record?: RecordChange) {
      checkUrl(input.url);
      const id = randomUUID();
      const secret = newSigningSecret();
      const now = clock();
      const row = await changeWithEvents(
        db,
        record,
        (executor) =>
          createWebhookQueries(executor, poolId).insertWebhook({
            id,
            url: input.url,
            description: input.description ?? '',
            event_types: JSON.stringify([...new Set(input.eventTypes)]),
            enabled: input.enabled ?? true,
            secret_enc: envelope.seal(secret, sealContext(poolId, id)),
            created_at: now,
            updated_at: now,
          }),
        () => [{ target: { type: 'webhook', id } }],
      );
      return { ...toWebhookResponse(row), secret: showSecret(secret, { createdAt: now }) };
    },

    async listWebhooks(poolId: string, query: ListWebhooksQuery): Promise<Page<WebhookResponse>> {
      const rows = await createWebhookQueries(db, poolId).listWebhooks(query.limit + 1, query.cursor);
      return toPage(rows, query.limit, (row) => row.id, toWebhookResponse);
    },

    async getWebhook(poolId: string, webhookId: string): Promise<WebhookResponse> {
      return toWebhookResponse(await rowOf(poolId, webhookId));
    },

    async updateWebhook(poolId: string, webhookId: string, input: UpdateWebhookInput, record?: RecordChange): Promise<WebhookResponse> {
      await rowOf(poolId, webhookId);
      if (input.url !== undefined) checkUrl(input.url);
      const row = await changeWithEvents(db, record, async (executor) => {
        const updated = await createWebhookQueries(executor, poolId).updateWebhook(webhookId, {
          ...(input.url !== undefined ? { url: input.url } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.eventTypes !== undefined ? { event_types: JSON.stringify([...new Set(input.eventTypes)]) } : {}),
          // Enabling again (after Tarn disabled it) starts a fresh failure count.
          ...(input.enabled !== undefined ? { enabled: input.enabled, disabled_reason: null, failing_since: null } : {}),
        });
        if (!updated) throw webhookNotFound();
        return updated;
      });
      if (input.enabled) wake?.();
      return toWebhookResponse(row);
    },

    async deleteWebhook(poolId: string, webhookId: string, record?: RecordChange): Promise<void> {
      if (!isUuid(webhookId)) throw webhookNotFound();
      await changeWithEvents(db, record, async (executor) => {
        if (!(await createWebhookQueries(executor, poolId).deleteWebhook(webhookId))) throw webhookNotFound();
      });
    },

    /** A new secret (returned once); the one it replaces keeps signing for `graceSeconds`. */
    async rotateSecret(poolId: string, webhookId: string, graceSeconds = DEFAULT_GRACE_SECONDS, record?: RecordChange) {
      const current = await rowOf(poolId, webhookId);
      const secret = newSigningSecret();
      const context = sealContext(poolId, webhookId);
      const row = await changeWithEvents(db, record, async (executor) => {
        const updated = await createWebhookQueries(executor, poolId).updateWebhook(webhookId, {
          secret_enc: envelope.seal(secret, context),
          previous_secret_enc: graceSeconds > 0 ? current.secret_enc : null,
          previous_expires_at: graceSeconds > 0 ? new Date(clock().getTime() + graceSeconds * 1000) : null,
        });
        if (!updated) throw webhookNotFound();
        return updated;
      });
      return { ...toWebhookResponse(row), secret: showSecret(secret, { createdAt: clock() }) };
    },

    async listDeliveries(poolId: string, webhookId: string, query: ListDeliveriesQuery) {
      await rowOf(poolId, webhookId);
      const queries = createWebhookQueries(db, poolId);
      const rows = await queries.listDeliveries(webhookId, query.status, query.limit + 1, query.cursor);
      const attempts = await queries.listAttempts(rows.slice(0, query.limit).map((row) => row.id));
      const byDelivery = new Map<string, WebhookAttemptRow[]>();
      for (const attempt of attempts) byDelivery.set(attempt.delivery_id, [...(byDelivery.get(attempt.delivery_id) ?? []), attempt]);
      return toPage(
        rows,
        query.limit,
        (row) => row.id,
        (row) => toDeliveryResponse(row, byDelivery.get(row.id) ?? []),
      );
    },

    /** A `webhook.test` event, delivered to this webhook only. */
    async sendTestEvent(poolId: string, webhookId: string, scope: AuditRequestScope | undefined) {
      const row = await rowOf(poolId, webhookId);
      if (!row.enabled) throw problems.conflict('The webhook is disabled: enable it before sending a test event.');
      const eventId = await audit.record(
        { poolId, action: 'webhook.test', outcome: 'success', target: { type: 'webhook', id: webhookId }, details: { url: row.url } },
        scope,
        { onlyWebhook: webhookId, required: true },
      );
      if (!eventId) throw problems.unavailable();
      return { eventId, deliveryId: `${eventId}.${webhookId}` };
    },

    /** Sends a past delivery's event again, as a new delivery with the same `webhook-id`. */
    async redeliver(poolId: string, webhookId: string, deliveryId: string) {
      await rowOf(poolId, webhookId);
      const queries = createWebhookQueries(db, poolId);
      // Delivery ids are `<event id>.<webhook id>` (hex, "r", ".", "-"): anything else names nothing.
      const past = /^[0-9a-fr.-]{1,120}$/.test(deliveryId) ? await queries.findDelivery(webhookId, deliveryId) : undefined;
      if (!past) throw problems.notFound('Delivery');
      const id = `${clock().getTime().toString(16).padStart(12, '0')}r${randomBytes(6).toString('hex')}.${webhookId}`;
      const created = await queries.insertDelivery({ id, webhook_id: webhookId, event_id: past.event_id });
      wake?.();
      return { eventId: created.event_id, deliveryId: created.id };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
