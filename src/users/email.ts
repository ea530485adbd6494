/**
 * One spelling per address. Emails are kept in Unicode NFKC (compatibility forms such as
 * fullwidth "ａ" become "a") with a lower-case domain (RFC 5321 §2.4: domains are
 * case-insensitive); lookups also ignore the case of the local part, as the
 * (pool_id, lower(email)) unique index does. Without this, "ａlice@" and "alice@" were two
 * identities that look the same to a person.
 */
export function normalizeEmail(raw: string): string {
  const value = raw.normalize('NFKC').trim();
  const at = value.lastIndexOf('@');
  return at < 0 ? value : `${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}`;
}

/** What lookups compare with lower(email). */
export function emailKey(raw: string): string {
  return normalizeEmail(raw).toLowerCase();
}
