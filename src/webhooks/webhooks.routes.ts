/** /admin/pools/{pool}/webhooks: where the pool's events are delivered (ADR 0809, docs/events.md). */
import { changeRecorder } from '../audit/audit.middleware.js';
import { poolRoute } from '../admin/pool-scope.js';
import { pageOf } from '../http/pagination.js';
import {
  createWebhookSchema,
  deliveryParams,
  deliveryResponse,
  listDeliveriesQuery,
  listWebhooksQuery,
  rotateSecretSchema,
  testEventResponse,
  updateWebhookSchema,
  webhookParams,
  webhookResponse,
  webhookWithSecretResponse,
} from './webhooks.schemas.js';
import type { WebhookService } from './webhooks.service.js';

export function webhookRoutes(webhooks: WebhookService) {
  return [
    poolRoute(
      {
        method: 'post',
        path: '/webhooks',
        summary: 'Create a webhook (its signing secret is returned once)',
        body: createWebhookSchema,
        status: 201,
        response: webhookWithSecretResponse,
      },
      async function createWebhook(ctx, { body }) {
        const created = await webhooks.createWebhook(ctx.state.pool.id, body, changeRecorder(ctx, 201));
        ctx.set('Location', `/admin/pools/${ctx.state.pool.id}/webhooks/${created.id}`);
        return created;
      },
    ),
    poolRoute(
      { method: 'get', path: '/webhooks', summary: 'List webhooks', query: listWebhooksQuery, status: 200, response: pageOf(webhookResponse) },
      async function listWebhooks(ctx, { query }) {
        return webhooks.listWebhooks(ctx.state.pool.id, query);
      },
    ),
    poolRoute(
      { method: 'get', path: '/webhooks/:webhookId', summary: 'Get a webhook', params: webhookParams, status: 200, response: webhookResponse },
      async function getWebhook(ctx, { params }) {
        return webhooks.getWebhook(ctx.state.pool.id, params.webhookId);
      },
    ),
    poolRoute(
      {
        method: 'patch',
        path: '/webhooks/:webhookId',
        summary: 'Change a webhook (enabled: true also re-enables one Tarn disabled)',
        params: webhookParams,
        body: updateWebhookSchema,
        status: 200,
        response: webhookResponse,
      },
      async function updateWebhook(ctx, { params, body }) {
        return webhooks.updateWebhook(ctx.state.pool.id, params.webhookId, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      { method: 'delete', path: '/webhooks/:webhookId', summary: 'Delete a webhook and its delivery log', params: webhookParams, status: 204 },
      async function deleteWebhook(ctx, { params }) {
        await webhooks.deleteWebhook(ctx.state.pool.id, params.webhookId, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/webhooks/:webhookId/secret/rotate',
        summary: 'Replace the signing secret (returned once); the old one keeps signing for graceSeconds (default one day)',
        params: webhookParams,
        body: rotateSecretSchema,
        bodyOptional: true,
        status: 200,
        response: webhookWithSecretResponse,
      },
      async function rotateWebhookSecret(ctx, { params, body }) {
        return webhooks.rotateSecret(ctx.state.pool.id, params.webhookId, body.graceSeconds, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/webhooks/:webhookId/deliveries',
        summary: "The webhook's delivery log, newest first, with every attempt",
        params: webhookParams,
        query: listDeliveriesQuery,
        status: 200,
        response: pageOf(deliveryResponse),
      },
      async function listWebhookDeliveries(ctx, { params, query }) {
        return webhooks.listDeliveries(ctx.state.pool.id, params.webhookId, query);
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/webhooks/:webhookId/test',
        summary: 'Send a webhook.test event to this webhook',
        params: webhookParams,
        status: 202,
        response: testEventResponse,
        problems: [409],
      },
      async function sendWebhookTestEvent(ctx, { params }) {
        return webhooks.sendTestEvent(ctx.state.pool.id, params.webhookId, ctx.state.audit);
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
        summary: "Send a past delivery's event again (same webhook-id)",
        params: deliveryParams,
        status: 202,
        response: testEventResponse,
      },
      async function redeliverWebhookEvent(ctx, { params }) {
        return webhooks.redeliver(ctx.state.pool.id, params.webhookId, params.deliveryId);
      },
    ),
  ];
}
