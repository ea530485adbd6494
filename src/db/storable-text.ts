/**
 * Text PostgreSQL can store: no NUL character (text and jsonb refuse it, SQLSTATE 22021 and
 * 22P05) and well-formed UTF-16, no lone surrogate (jsonb refuses its escape, 22P02; text
 * would store a replacement character instead of what was sent). Input is checked where it
 * arrives, so such text is the sender's 400 and never reaches a statement it shares with
 * other requests.
 */

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

export type TextPath = readonly (string | number)[];

/**
 * Where the first string (value or property name) in a parsed value that cannot be stored
 * is: its path (`['profile', 'nickname']`, `[]` for the value itself); undefined when
 * everything can be stored.
 */
export function findUnstorableText(value: unknown, path: TextPath = []): TextPath | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : path;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let n = 0; n < value.length; n += 1) {
      const found = findUnstorableText(value[n], [...path, n]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return [...path, key];
    const found = findUnstorableText(item, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}
