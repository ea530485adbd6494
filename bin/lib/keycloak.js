// @ts-check
/**
 * A Keycloak realm export (`kc.sh export`: the realm JSON, users inline or in
 * <realm>-users-N.json files) turned into what Tarn's admin API takes: a pool, its groups
 * (nesting kept), its applications (client ids, redirect URIs and secrets kept) and the
 * users as import lines (passwords kept: PBKDF2 credentials as they are, argon2 ones as PHC
 * strings). What has no place in Tarn is listed in `leftBehind` (docs/migrate.md).
 */

/** Keycloak's own clients of every realm: nothing a relying party uses. */
const BUILT_IN_CLIENTS = new Set(['account', 'account-console', 'admin-cli', 'broker', 'realm-management', 'security-admin-console']);
const MASKED_SECRET = /^\*+$/;

/** @param {string} realm */
export function poolIdOf(realm) {
  const id = realm
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return id.length >= 2 ? id : `realm-${id}`;
}

/**
 * @typedef {{ name: string, parentPath: string | null, path: string }} GroupPlan
 * @typedef {{ clientId: string, name: string, redirectUris: string[], postLogoutRedirectUris: string[], grantTypes: string[], tokenEndpointAuthMethod: string, clientSecret?: string }} ClientPlan
 * @typedef {{ pool: { id: string, name: string }, groups: GroupPlan[], clients: ClientPlan[], users: Record<string, unknown>[], leftBehind: string[] }} RealmPlan
 */

/** @param {any[]} groups @param {string | null} parentPath @param {GroupPlan[]} out */
function flattenGroups(groups, parentPath, out) {
  for (const group of groups ?? []) {
    const path = parentPath ? `${parentPath}/${group.name}` : group.name;
    out.push({ name: group.name, parentPath, path });
    flattenGroups(group.subGroups, path, out);
  }
  return out;
}

/** @param {any} client @param {string[]} leftBehind @returns {ClientPlan | undefined} */
function toClient(client, leftBehind) {
  const id = client.clientId;
  if (BUILT_IN_CLIENTS.has(id) || client.bearerOnly || (client.protocol && client.protocol !== 'openid-connect')) return undefined;
  const exact = (/** @type {string[]} */ uris) =>
    (uris ?? []).filter((uri) => {
      // Tarn compares redirect URIs exactly (OAuth 2.0 Security BCP §4.1.3): patterns stay behind.
      if (/[*+]/.test(uri) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
        leftBehind.push(`client ${id}: redirect URI "${uri}" (a pattern or relative URI; register the exact URIs)`);
        return false;
      }
      return true;
    });
  const postLogout = String(client.attributes?.['post.logout.redirect.uris'] ?? '')
    .split('##')
    .filter(Boolean);
  const grantTypes = [];
  if (client.standardFlowEnabled !== false) grantTypes.push('authorization_code', 'refresh_token');
  if (client.serviceAccountsEnabled) grantTypes.push('client_credentials');
  if (client.implicitFlowEnabled) leftBehind.push(`client ${id}: the implicit flow (not offered by Tarn)`);
  if (client.directAccessGrantsEnabled) leftBehind.push(`client ${id}: direct access grants (the password grant is not offered by Tarn)`);
  /** @type {ClientPlan} */
  const plan = {
    clientId: id,
    name: client.name || id,
    redirectUris: exact(client.redirectUris),
    postLogoutRedirectUris: exact(postLogout),
    grantTypes: grantTypes.length ? grantTypes : ['authorization_code', 'refresh_token'],
    tokenEndpointAuthMethod: client.publicClient ? 'none' : 'client_secret_basic',
  };
  if (!client.publicClient) {
    if (typeof client.secret === 'string' && client.secret.length >= 16 && !MASKED_SECRET.test(client.secret)) plan.clientSecret = client.secret;
    else leftBehind.push(`client ${id}: its secret (not in the export); Tarn made a new one`);
  }
  if (client.clientAuthenticatorType === 'client-jwt') leftBehind.push(`client ${id}: signed-JWT client authentication (set its jwks in Tarn)`);
  return plan;
}

/** @param {string | object | undefined} value */
function parseJson(value) {
  if (typeof value !== 'string') return value ?? {};
  try {
    return JSON.parse(value);
  } catch {
    return {};
  }
}

const unpad = (/** @type {string} */ text) => String(text ?? '').replace(/=+$/, '');

/** A Keycloak password credential as an import line's passwordHash and passwordHashFormat. @param {any} credential */
function toPassword(credential) {
  const data = parseJson(credential.credentialData);
  if (String(data.algorithm).startsWith('pbkdf2')) {
    return { passwordHashFormat: 'keycloak', passwordHash: { secretData: credential.secretData, credentialData: credential.credentialData } };
  }
  if (data.algorithm === 'argon2') {
    // Keycloak 24+: additionalParameters hold the argon2 settings as one-element string arrays.
    const secret = parseJson(credential.secretData);
    const extra = data.additionalParameters ?? {};
    const first = (/** @type {string} */ name, /** @type {string} */ fallback) => String(extra[name]?.[0] ?? fallback);
    const type = first('type', 'id') === 'i' ? 'argon2i' : 'argon2id';
    const version = first('version', '1.3') === '1.3' ? 19 : 16;
    const hash = `$${type}$v=${version}$m=${first('memory', '7168')},t=${data.hashIterations ?? 5},p=${first('parallelism', '1')}$${unpad(secret.salt)}$${unpad(secret.value)}`;
    return { passwordHashFormat: 'argon2', passwordHash: hash };
  }
  return undefined;
}

/** @param {any} user @param {string[]} leftBehind */
function toUserLine(user, leftBehind) {
  const who = user.username ?? user.id;
  if (!user.email) {
    leftBehind.push(`user ${who}: no email address (Tarn signs users in by email)`);
    return undefined;
  }
  if (user.federationLink) leftBehind.push(`user ${who}: the link to user federation ${user.federationLink}`);
  /** @type {Record<string, unknown>} */
  const profile = {};
  if (user.firstName) profile.given_name = user.firstName;
  if (user.lastName) profile.family_name = user.lastName;
  if (user.firstName || user.lastName) profile.name = [user.firstName, user.lastName].filter(Boolean).join(' ');
  /** @type {Record<string, unknown>} */
  const line = {
    email: user.email,
    emailVerified: Boolean(user.emailVerified),
    status: user.enabled === false ? 'disabled' : 'active',
    profile,
    metadata: { keycloak: { username: user.username, ...(user.attributes ? { attributes: user.attributes } : {}) } },
    groups: (user.groups ?? []).map((/** @type {string} */ path) => path.replace(/^\//, '')),
  };
  if (typeof user.id === 'string' && /^[0-9a-f-]{36}$/i.test(user.id)) line.id = user.id;
  if (user.createdTimestamp) line.createdAt = new Date(user.createdTimestamp).toISOString();
  const password = (user.credentials ?? [])
    .filter((/** @type {any} */ c) => c.type === 'password')
    .map(toPassword)
    .find(Boolean);
  if (password) Object.assign(line, password);
  else if ((user.credentials ?? []).some((/** @type {any} */ c) => c.type === 'password'))
    leftBehind.push(`user ${who}: a password in a format Tarn does not read`);
  for (const credential of user.credentials ?? []) {
    if (credential.type !== 'password') leftBehind.push(`user ${who}: a ${credential.type} credential (enrol again in Tarn)`);
  }
  if (user.federatedIdentities?.length) leftBehind.push(`user ${who}: links to identity providers`);
  return line;
}

/**
 * @param {any} realm the realm export
 * @param {any[]} [userFiles] separate <realm>-users-N.json exports ({ users: [...] })
 * @returns {RealmPlan}
 */
export function planRealm(realm, userFiles = []) {
  /** @type {string[]} */
  const leftBehind = [];
  const users = [...(realm.users ?? []), ...userFiles.flatMap((file) => file.users ?? [])];
  if (realm.roles?.realm?.some((/** @type {any} */ role) => !/^(offline_access|uma_authorization|default-roles-)/.test(role.name))) {
    leftBehind.push('realm roles (model them as groups; memberships of roles are not carried over)');
  }
  if (realm.identityProviders?.length) leftBehind.push('identity providers (set up federation in Tarn)');
  if (realm.components?.['org.keycloak.storage.UserStorageProvider']?.length)
    leftBehind.push('user federation (LDAP, Kerberos): users stored there are not in the export');
  return {
    pool: { id: poolIdOf(realm.realm), name: realm.displayName || realm.realm },
    groups: flattenGroups(realm.groups, null, []),
    clients: (realm.clients ?? []).map((/** @type {any} */ client) => toClient(client, leftBehind)).filter(Boolean),
    users: users.map((user) => toUserLine(user, leftBehind)).filter((line) => line !== undefined),
    leftBehind,
  };
}
