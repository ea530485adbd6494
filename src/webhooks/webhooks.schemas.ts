/** What /admin/pools/{pool}/webhooks accepts and answers (ADR 0809). */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';
import { shownSecret } from '../http/shown-secret.js';
import { pageQuery } from '../http/pagination.js';

const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.hash === '' && url.username === '' && url.password === '';
      } catch {
        return false;
      }
    },
    { message: 'Must be an absolute http or https URL without a fragment or credentials.' },
  );

/** An event type of docs/events.md ("user.created"), every type ("*"), or every type of a family ("user.*"). */
export const eventTypePattern = z
  .string()
  .max(100)
  .regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, 'An event type such as "sign_in.success", "users.*" for a family, or "*" for every type.');

const eventTypes = z.array(eventTypePattern).min(1, 'Name at least one event type, or "*" for every type.').max(100);

export const createWebhookSchema = z
  .object({
    url: httpUrl,
    eventTypes,
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const updateWebhookSchema = z
  .object({
    url: httpUrl.optional(),
    eventTypes: eventTypes.optional(),
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const rotateSecretSchema = z
  .object({
    /** How long the secret being replaced keeps signing (both signatures are sent meanwhile). */
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional(),
  })
  .strict();

export const webhookParams = z.object({ webhookId: z.string() });
export const deliveryParams = z.object({ webhookId: z.string(), deliveryId: z.string() });
export const listWebhooksQuery = z.object({ ...pageQuery }).strict();
export const listDeliveriesQuery = z.object({ ...pageQuery, status: z.enum(['pending', 'delivered', 'failed']).optional() }).strict();

export type CreateWebhookInput = z.output<typeof createWebhookSchema>;
export type UpdateWebhookInput = z.output<typeof updateWebhookSchema>;
export type ListWebhooksQuery = z.output<typeof listWebhooksQuery>;
export type ListDeliveriesQuery = z.output<typeof listDeliveriesQuery>;

export const webhookResponse = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  /** Why Tarn disabled it by itself (it kept failing); null otherwise. */
  disabledReason: z.string().nullable(),
  /** Since when every attempt has failed; null while it answers. */
  failingSince: timestamp.nullable(),
  /** Until when the secret before the last rotation still signs; null when there is none. */
  previousSecretExpiresAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const webhookWithSecretResponse = webhookResponse.extend({
  secret: shownSecret.describe('The signing secret (Standard Webhooks: whsec_ and base64), shown once.'),
});

const attemptResponse = z.object({
  attempt: z.number().int(),
  startedAt: timestamp,
  durationMs: z.number().int(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  /** The start of the receiver's answer, at most 1 KiB. */
  response: z.string().nullable(),
});

export const deliveryResponse = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: timestamp.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastDurationMs: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: timestamp,
  deliveredAt: timestamp.nullable(),
  attemptLog: z.array(attemptResponse),
});

export const testEventResponse = z.object({ eventId: z.string(), deliveryId: z.string() });
