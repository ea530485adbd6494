/**
 * What the admin API accepts for groups. A name is what relying parties see in the
 * `groups` claim: trimmed, 1–128 characters, no control characters.
 * Ids are plain strings here; the service answers 404 for one that cannot exist.
 */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';
import { pageQuery } from '../http/pagination.js';
import { userResponse } from '../users/users.schemas.js';

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

export const listGroupsQuery = z
  .object({ ...pageQuery, parentId: id.optional(), name: z.string().max(128).optional().describe('Exact name, case-insensitive.') })
  .strict();
export const listMembersQuery = z
  .object({ ...pageQuery, nested: flag.describe('true adds the members of every group below it (`direct` tells which).') })
  .strict();
export const deleteGroupQuery = z.object({ cascade: flag.describe('true deletes the whole subtree.') }).strict();
export const userGroupsQuery = z.object(pageQuery).strict();

export const groupIdParams = z.object({ groupId: z.string() });
export const memberParams = z.object({ groupId: z.string(), userId: z.string() });

export const groupResponse = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  parentId: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

const direct = z.boolean().describe('Whether the membership is direct rather than through a nested group.');
export const userGroupResponse = groupResponse.extend({ direct });
export const memberResponse = userResponse.extend({ direct });

export type CreateGroupInput = z.infer<typeof createGroupSchema>;
export type UpdateGroupInput = z.infer<typeof updateGroupSchema>;
export type ListGroupsQuery = z.output<typeof listGroupsQuery>;
export type ListMembersQuery = z.output<typeof listMembersQuery>;
export type DeleteGroupQuery = z.output<typeof deleteGroupQuery>;
