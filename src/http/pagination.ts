/**
 * Cursor pagination: `?limit=&cursor=` in, `{ items, nextCursor }` out. Cursors are opaque.
 * A list route spreads `pageQuery` into its query schema; the service gets the decoded
 * cursor (the sort key after which the page starts) and builds the page with `toPage`.
 */
import { z } from 'zod';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageQuery {
  limit: number;
  /** The sort key after which the page starts, decoded from the cursor. */
  cursor: string | undefined;
}

/** The query fields of every list route. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Items per page (1 to 200).'),
  cursor: z
    .string()
    .max(512)
    .optional()
    .describe('The nextCursor of the previous page.')
    .transform((cursor, ctx) => {
      if (cursor === undefined) return undefined;
      const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
      if (!decoded.startsWith('c:')) {
        ctx.addIssue({ code: 'custom', message: 'Not a cursor returned by this API.' });
        return z.NEVER;
      }
      return decoded.slice(2);
    }),
};

/** The response of a list route whose items are `item`. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
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
