// @ts-check
/**
 * An Auth0 user export, one JSON user a line: the export job of the Management API
 * (user_id, email, email_verified, name, given_name, family_name, picture, created_at,
 * user_metadata, app_metadata) or the export with password hashes Auth0 hands over on
 * request (_id.$oid, email, email_verified, passwordHash: bcrypt $2a$/$2b$). Each line
 * becomes one Tarn import line, in the same place, so the server's line numbers are the file's.
 */

const PROFILE_FIELDS = ['name', 'given_name', 'family_name', 'nickname', 'picture', 'locale'];

/** @param {string} text one line of the export */
export function auth0LineToTarn(text) {
  if (text.trim() === '') return '';
  let user;
  try {
    user = JSON.parse(text);
  } catch {
    return text; // the server reports the line as it is
  }
  if (user === null || typeof user !== 'object') return text;
  /** @type {Record<string, unknown>} */
  const profile = {};
  for (const field of PROFILE_FIELDS) if (typeof user[field] === 'string' && user[field]) profile[field] = user[field];
  /** @type {Record<string, unknown>} */
  const metadata = { auth0: { userId: user.user_id ?? (user._id?.$oid ? `auth0|${user._id.$oid}` : undefined) } };
  if (user.user_metadata) metadata.userMetadata = user.user_metadata;
  if (user.app_metadata) metadata.appMetadata = user.app_metadata;
  /** @type {Record<string, unknown>} */
  const line = { email: user.email, emailVerified: Boolean(user.email_verified), profile, metadata };
  const created = user.created_at?.$date ?? user.created_at;
  if (typeof created === 'string' && !Number.isNaN(Date.parse(created))) line.createdAt = new Date(created).toISOString();
  if (user.blocked === true) line.status = 'disabled';
  if (typeof user.passwordHash === 'string') Object.assign(line, { passwordHashFormat: 'bcrypt', passwordHash: user.passwordHash });
  return JSON.stringify(line);
}
