/** One line of a user import, the options of an import, and its settings line. */
import { z } from 'zod';
import { PASSWORD_HASH_FORMATS } from '../password-hashes/index.js';

const record = z.record(z.string(), z.unknown()).describe("Members as the pool's profileSchema (profile) or metadataSchema (metadata) declares them.");

export const importLineSchema = z
  .object({
    /** Keeps the user's id from the old system (a UUID), so `sub` stays the same for relying parties. */
    id: z.string().uuid({ message: 'Must be a UUID.' }).optional(),
    email: z.string().trim().max(320).email({ message: 'Must be an email address.' }),
    emailVerified: z.boolean().optional(),
    phone: z.string().max(32).nullable().optional(),
    status: z.enum(['new', 'active', 'disabled'], { error: () => 'Must be "new", "active" or "disabled".' }).optional(),
    profile: record.optional(),
    metadata: record.optional(),
    /** Group names, or paths of nested groups ("staff/engineering"). */
    groups: z.array(z.string().min(1).max(1000)).max(1000).optional(),
    password: z.string().min(1).max(1024).optional(),
    passwordHash: z.union([z.string().min(1).max(4096), record]).optional(),
    passwordHashFormat: z.enum(PASSWORD_HASH_FORMATS, { error: () => `Must be one of ${PASSWORD_HASH_FORMATS.join(', ')}.` }).optional(),
    /** When the user was created in the old system (ISO 8601); now if absent. */
    createdAt: z.string().datetime({ offset: true, message: 'Must be an ISO 8601 date and time.' }).optional(),
    /** "required": this user chooses a new password at their next password sign-in (whatever the import's option). */
    passwordChange: z.literal('required', { error: () => 'Must be "required".' }).optional(),
    /** firebase-scrypt: the user's salt (base64). */
    passwordSalt: z.string().max(1024).optional(),
  })
  .strict()
  .superRefine((line, ctx) => {
    if (line.password !== undefined && line.passwordHash !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'Give either password or passwordHash, not both.' });
    }
    if (line.passwordHash !== undefined && line.passwordHashFormat === undefined) {
      ctx.addIssue({ code: 'custom', path: ['passwordHashFormat'], message: 'Is required with passwordHash.' });
    }
  });

export type ImportLine = z.infer<typeof importLineSchema>;

/**
 * The same schema compiled ahead of time (z.compile): a generated fast path checks the usual
 * line in a third of the time, and any line it does not accept goes through the schema as
 * written, so a failed line's problems are the same word for word. Checked once per line of a
 * million-line import.
 */
export const compiledImportLineSchema = z.compile(importLineSchema);

export const firebaseScryptSchema = z
  .object({
    signerKey: z.string().min(1).max(1024),
    saltSeparator: z.string().max(1024),
    rounds: z.number().int(),
    memCost: z.number().int(),
  })
  .strict();

/** An optional first line of an NDJSON import: parameters that hold for every user. */
export const settingsLineSchema = z.object({ settings: z.object({ firebaseScrypt: firebaseScryptSchema.optional() }).strict() }).strict();

const flag = z
  .enum(['true', 'false'], { error: () => 'Must be true or false.' })
  .optional()
  .transform((value) => value === 'true');

export const importOptionsSchema = z
  .object({
    dryRun: flag,
    atomic: flag,
    onConflict: z
      .enum(['skip', 'update', 'fail'], { error: () => 'Must be skip, update or fail.' })
      .optional()
      .default('fail'),
    /**
     * weak (or true): users whose password fails the pool's policy must change it at their
     * next sign-in (plain passwords are checked at import, imported hashes at the first
     * sign-in); all: every imported user with a password must change it; false: none.
     */
    requirePasswordChange: z
      .enum(['true', 'false', 'weak', 'all'], { error: () => 'Must be weak (or true), all or false.' })
      .optional()
      .transform((value): 'weak' | 'all' | 'none' => (value === 'true' || value === 'weak' ? 'weak' : value === 'all' ? 'all' : 'none')),
  })
  .strict();

export type ImportOptions = z.infer<typeof importOptionsSchema>;

export const exportOptionsSchema = z.object({ includePasswordHashes: flag }).strict();

const fieldErrorResponse = z.object({ field: z.string(), pointer: z.string(), detail: z.string() });

export const importReportResponse = z.object({
  dryRun: z.boolean(),
  atomic: z.boolean(),
  onConflict: z.enum(['skip', 'update', 'fail']),
  committed: z.boolean().describe('False for a dry run and for an atomic import with a failed line: nothing was kept.'),
  lines: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  failures: z.array(z.object({ line: z.number().int(), errors: z.array(fieldErrorResponse) })).describe('The first 1,000 failed lines, by line number.'),
  failuresTruncated: z.boolean(),
});

/** One line of an export: an import line (so it imports back), groups as paths. */
export const exportLineResponse = z.object({
  id: z.string(),
  email: z.string(),
  emailVerified: z.boolean(),
  phone: z.string().nullable(),
  status: z.enum(['new', 'active', 'disabled']),
  profile: record,
  metadata: record,
  groups: z.array(z.string()),
  createdAt: z.string(),
  passwordHash: z.string().optional().describe('Only with includePasswordHashes=true and the admin token.'),
  passwordHashFormat: z.enum(PASSWORD_HASH_FORMATS).optional(),
});
