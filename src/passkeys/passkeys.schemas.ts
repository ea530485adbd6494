/** What the admin API answers for passkeys, and the one field a user may change. */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';

export const renamePasskeySchema = z.object({ name: z.string().trim().min(1).max(100) }).strict();
export type RenamePasskeyInput = z.output<typeof renamePasskeySchema>;

export const passkeyParams = z.object({ userId: z.string(), passkeyId: z.string() });

export const passkeyResponse = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  backupEligible: z.boolean(),
  backedUp: z.boolean(),
  transports: z.array(z.string()),
  aaguid: z.string(),
});
