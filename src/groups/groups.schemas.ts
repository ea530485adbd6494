/**
 * What the admin API accepts for groups. A name is what relying parties see in the
 * `groups` claim: trimmed, 1–128 characters, no control characters.
 * Ids are plain strings here; the service answers 404 for one that cannot exist.
 */
import { z } from 'zod';

const name = z
  .string()
  .trim()
  .min(1, { message: 'Must not be empty.' })
  .max(128)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a group name must not hold
  .regex(/^[^\u0000-\u001f\u007f]*$/, { message: 'Must not contain control characters.' });
const description = z.string().max(1024);
const id = z.string().max(64);
const flag = z.enum(['true', 'false'], { message: 'Must be "true" or "false".' }).optional();

export const createGroupSchema = z
  .object({
    name,
    description: description.optional(),
    parentId: id.nullable().optional(),
  })
  .strict();

export const updateGroupSchema = z
  .object({
    name,
    description,
    /** null makes the group a root. */
    parentId: id.nullable(),
  })
  .partial()
  .strict();

export const listGroupsQuery = z.object({ parentId: id.optional(), name: z.string().max(128).optional() });
export const listMembersQuery = z.object({ nested: flag });
export const deleteGroupQuery = z.object({ cascade: flag });

export type CreateGroupInput = z.infer<typeof createGroupSchema>;
export type UpdateGroupInput = z.infer<typeof updateGroupSchema>;
