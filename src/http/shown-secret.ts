/**
 * A secret shown once: the one shape in which the admin API hands over any secret it has
 * just made (a pool's API secrets, an application's client secret, a webhook's signing
 * secret). The value is in this answer only: Tarn keeps a hash or a sealed copy, and no
 * later answer carries it again (docs/design.md#admin-api).
 */
import { z } from 'zod';
import { timestamp } from './guard.js';

export const shownSecret = z
  .object({
    value: z.string().describe('The secret itself. Copy it now: no other answer shows it again.'),
    id: z.string().optional().describe('Which secret this is, as the listing of secrets names it (pool API secrets).'),
    createdAt: timestamp,
    expiresAt: timestamp.nullable().describe('When it stops working by itself; null: when it is rotated, revoked or deleted.'),
  })
  .strict()
  .describe('A secret shown once.');

export type ShownSecret = z.input<typeof shownSecret>;

/** The answer's form of a secret just made. */
export function showSecret(value: string, made: { id?: string; createdAt?: Date; expiresAt?: Date | null } = {}): ShownSecret {
  return { value, ...(made.id ? { id: made.id } : {}), createdAt: made.createdAt ?? new Date(), expiresAt: made.expiresAt ?? null };
}
