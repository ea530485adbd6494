/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a secret is `whsec_`
 * followed by the base64 of its key bytes; a signature is `v1,` + base64(HMAC-SHA256(key,
 * `${webhookId}.${timestamp}.${body}`)); `webhook-signature` lists one per valid secret,
 * separated by spaces (during a rotation's grace period: the new and the old one).
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

export function newSigningSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
}

export function sign(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The headers of one delivery, signed with every secret given (newest first). */
export function signedHeaders(secrets: string[], webhookId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => sign(secret, webhookId, timestampSeconds, body)).join(' '),
  };
}
