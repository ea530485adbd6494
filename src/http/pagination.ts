/** Cursor pagination: `?limit=&cursor=` in, `{ items, nextCursor }` out. Cursors are opaque. */
import { z } from 'zod';
import { parseInput } from './validation.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** The sort key after which the page starts, decoded from the cursor. */
  after: string | undefined;
}

const query = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(512)
    .optional()
    .transform((cursor, ctx) => {
      if (cursor === undefined) return undefined;
      const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
      if (!decoded.startsWith('c:')) {
        ctx.addIssue({ code: 'custom', message: 'Not a cursor returned by this API.' });
        return z.NEVER;
      }
      return decoded.slice(2);
    }),
});

export function parsePageRequest(params: Record<string, unknown>): PageRequest {
  const parsed = parseInput(query, { limit: params.limit, cursor: params.cursor }, 'query');
  return { limit: parsed.limit, after: parsed.cursor };
}

export function encodeCursor(key: string): string {
  return Buffer.from(`c:${key}`).toString('base64url');
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says that there is more. */
export function toPage<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => string, map: (row: Row) => Item): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
