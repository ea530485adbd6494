/**
 * Every pool-bound query module, run against two pools (Ory Kratos' "fails on a different
 * tenant"): a row of pool A is not found, listed, counted, changed or deleted through
 * pool B's module, and is still whole at A afterwards.
 * (One-time codes: test/users/queries.test.ts; provider artifacts: test/oidc/artifacts.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { createAuditQueries } from '../../src/audit/audit.queries.js';
import { createBrandingQueries } from '../../src/branding/branding.queries.js';
import { createClientQueries } from '../../src/clients/clients.queries.js';
import { createConnectionQueries } from '../../src/connections/connections.queries.js';
import { hashSecret } from '../../src/crypto/secrets.js';
import { createGroupQueries } from '../../src/groups/groups.queries.js';
import { createKeyQueries } from '../../src/keys/keys.queries.js';
import { createFactorFailureQueries } from '../../src/mfa/factor-failures.queries.js';
import { createMailTemplateQueries } from '../../src/mail/mail-templates.queries.js';
import { createConsentGrantQueries } from '../../src/oidc/consent-grants.queries.js';
import { createPasskeyQueries } from '../../src/passkeys/passkeys.queries.js';
import { createSecretQueries } from '../../src/pools/secrets.queries.js';
import { createAccountArtifactQueries } from '../../src/users/account-artifacts.queries.js';
import { createInvitationQueries } from '../../src/users/invitations.queries.js';
import { createLockoutQueries } from '../../src/users/lockout.queries.js';
import { createUserFinder, createUserQueries } from '../../src/users/users.queries.js';
import { createWebhookQueries } from '../../src/webhooks/webhooks.queries.js';
import { createPool, createUser } from '../support/fixtures.js';
import { startTarn, type RunningTarn } from '../support/tarn.js';

let tarn: RunningTarn;
beforeAll(async () => {
  tarn = await startTarn();
});
afterAll(async () => {
  await tarn?.close();
});

const db = () => tarn.database.handle.db;
const later = () => new Date(Date.now() + 60 * 60 * 1000);

interface TwoPools {
  a: string;
  b: string;
  /** Pool A's current API secret. */
  secretA: string;
  userA: string;
  /** Only pool A has a user with this email. */
  emailA: string;
}

async function twoPools(): Promise<TwoPools> {
  const a = await createPool(tarn);
  const b = await createPool(tarn);
  const userA = await createUser(tarn, a.id);
  await createUser(tarn, b.id);
  return { a: a.id, b: b.id, secretA: a.secret.value, userA: userA.id, emailA: userA.email };
}

interface ModuleCase {
  /** Writes rows of pool A through A's module; returns what the probes need. */
  seed(pools: TwoPools): Promise<Record<string, string>>;
  /** Every query of the module at pool B, aimed at A's rows: each must find or change nothing. */
  atOtherPool(pools: TwoPools, seeded: Record<string, string>): Promise<Record<string, unknown>>;
  /** What pool B saw, had it seen nothing of A. */
  nothing: Record<string, unknown>;
  /** A's rows, read through A's module afterwards. */
  atOwnPool(pools: TwoPools, seeded: Record<string, string>): Promise<unknown>;
  own: unknown;
}

const cases: Record<string, ModuleCase> = {
  brandAssets: {
    async seed({ a }) {
      await createBrandingQueries(db(), a).putAsset('logo', { sha256: 'a'.repeat(64), mediaType: 'image/png', content: Buffer.from('png of A') });
      return {};
    },
    async atOtherPool({ b }) {
      const assets = createBrandingQueries(db(), b);
      return { find: await assets.findAsset('logo'), delete: await assets.deleteAsset('logo') };
    },
    nothing: { find: undefined, delete: false },
    atOwnPool: async ({ a }) => Buffer.from((await createBrandingQueries(db(), a).findAsset('logo'))!.content).toString(),
    own: 'png of A',
  },

  mailTemplates: {
    async seed({ a }) {
      await createMailTemplateQueries(db(), a).putTemplate('invitation', 'en', { subject: 'A', html: '<p>A</p>', text: 'A' });
      return {};
    },
    async atOtherPool({ b }) {
      const templates = createMailTemplateQueries(db(), b);
      return {
        list: await templates.listTemplates(),
        find: await templates.findTemplate('invitation', 'en'),
        first: await templates.findFirstTemplate('invitation', ['en']),
        delete: await templates.deleteTemplate('invitation', 'en'),
      };
    },
    nothing: { list: [], find: undefined, first: undefined, delete: false },
    atOwnPool: async ({ a }) => (await createMailTemplateQueries(db(), a).findTemplate('invitation', 'en'))?.subject,
    own: 'A',
  },

  consentGrants: {
    async seed({ a, userA }) {
      await createClientQueries(db(), a).insertClient({
        client_id: 'consent-client',
        name: 'A',
        secret_enc: null,
        redirect_uris: '[]',
        post_logout_redirect_uris: '[]',
        grant_types: '["client_credentials"]',
        token_endpoint_auth_method: 'none',
        backchannel_logout_uri: null,
        jwks: 'null',
      });
      await createConsentGrantQueries(db(), a).rememberGrant(userA, 'consent-client', 'grant-of-a', false);
      return {};
    },
    async atOtherPool({ b, userA }) {
      const grants = createConsentGrantQueries(db(), b);
      const found = await grants.findGrantId(userA, 'consent-client');
      await grants.forgetGrant(userA, 'consent-client');
      return { found };
    },
    nothing: { found: undefined },
    atOwnPool: async ({ a, userA }) => createConsentGrantQueries(db(), a).findGrantId(userA, 'consent-client'),
    own: 'grant-of-a',
  },

  clients: {
    async seed({ a }) {
      await createClientQueries(db(), a).insertClient({
        client_id: 'client-a',
        name: 'A',
        secret_enc: null,
        redirect_uris: '[]',
        post_logout_redirect_uris: '[]',
        grant_types: '["client_credentials"]',
        token_endpoint_auth_method: 'none',
        backchannel_logout_uri: null,
        jwks: 'null',
      });
      return {};
    },
    async atOtherPool({ b }) {
      const clients = createClientQueries(db(), b);
      return {
        find: await clients.findClient('client-a'),
        list: await clients.listClients(10, undefined),
        update: await clients.updateClient('client-a', { name: 'changed by B' }),
        delete: await clients.deleteClient('client-a'),
      };
    },
    nothing: { find: undefined, list: [], update: undefined, delete: false },
    atOwnPool: async ({ a }) => (await createClientQueries(db(), a).findClient('client-a'))?.name,
    own: 'A',
  },

  users: {
    seed: async () => ({}),
    async atOtherPool({ b, userA, emailA }) {
      const users = createUserQueries(db(), b);
      await users.touchLastLogin(userA);
      return {
        find: await users.findUser(userA),
        byEmail: await users.findUserByEmail(emailA),
        list: (await users.listUsers({ email: emailA }, 10, undefined)).length,
        listByPrefix: (await users.listUsers({ emailPrefix: emailA.slice(0, 10) }, 10, undefined)).length,
        search: (await users.listUsers({ q: emailA.slice(0, 10) }, 10, undefined, 'email')).length,
        count: await users.countUsers({ q: emailA.slice(0, 10) }),
        batched: await createUserFinder(db(), b)(userA),
        update: await users.updateUser(userA, { phone: '+1 555 0100' }),
        delete: await users.deleteUser(userA),
      };
    },
    nothing: { find: undefined, byEmail: undefined, list: 0, listByPrefix: 0, search: 0, count: 0, batched: undefined, update: undefined, delete: false },
    async atOwnPool({ a, userA }) {
      const user = await createUserQueries(db(), a).findUser(userA);
      return { phone: user?.phone, lastLoginAt: user?.last_login_at };
    },
    own: { phone: null, lastLoginAt: null },
  },

  connections: {
    async seed({ a, userA }) {
      const connections = createConnectionQueries(db(), a);
      const settings = {
        scopes: ['openid'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        claimMapping: { subject: 'sub', email: 'email', emailVerified: 'email_verified', profile: {}, metadata: {} },
        emailVerified: 'claim',
        provisioning: 'just_in_time',
        issuer: 'https://idp.example.test',
      };
      const row = await connections.insertConnection({
        id: randomUUID(),
        name: 'upstream',
        type: 'oidc',
        preset: null,
        display_name: 'Upstream',
        logo_url: null,
        settings: JSON.stringify(settings),
        client_id: 'c',
        secret_enc: null,
      });
      await connections.insertIdentity({ connection_id: row.id, subject: 'upstream-sub', user_id: userA });
      return { connection: row.id };
    },
    async atOtherPool({ b, userA }, { connection }) {
      const connections = createConnectionQueries(db(), b);
      return {
        find: await connections.findConnection(connection!),
        byName: await connections.findConnectionByName('upstream'),
        list: await connections.listConnections(),
        update: await connections.updateConnection(connection!, { display_name: 'changed by B' }),
        identities: await connections.listIdentities(userA),
        identity: await connections.findIdentity(connection!, 'upstream-sub'),
        link: await connections.insertIdentity({ connection_id: connection!, subject: 'other', user_id: userA }).then(
          () => 'linked',
          (error: { code?: string }) => error.code,
        ),
        unlink: await connections.deleteIdentity(userA, connection!),
        delete: await connections.deleteConnection(connection!),
      };
    },
    nothing: {
      find: undefined,
      byName: undefined,
      list: [],
      update: undefined,
      identities: [],
      identity: undefined,
      link: '23503',
      unlink: false,
      delete: false,
    },
    async atOwnPool({ a, userA }, { connection }) {
      const connections = createConnectionQueries(db(), a);
      return {
        name: (await connections.findConnection(connection!))?.display_name,
        identities: (await connections.listIdentities(userA)).map((row) => row.subject),
      };
    },
    own: { name: 'Upstream', identities: ['upstream-sub'] },
  },

  groups: {
    async seed({ a, userA }) {
      const groups = createGroupQueries(db(), a);
      const parent = await groups.insertGroup({ id: randomUUID(), name: 'parent', parent_id: null });
      const child = await groups.insertGroup({ id: randomUUID(), name: 'child', parent_id: parent.id });
      await groups.insertMember(child.id, userA);
      return { parent: parent.id, child: child.id };
    },
    async atOtherPool({ b, userA }, { parent, child }) {
      const groups = createGroupQueries(db(), b);
      return {
        find: await groups.findGroup(parent!),
        list: await groups.listGroups({}, 10, undefined),
        update: await groups.updateGroup(parent!, { name: 'changed by B' }),
        children: await groups.countChildren(parent!),
        ancestor: await groups.isSelfOrAncestor(parent!, child!),
        direct: await groups.listDirectMembers(child!, 10, undefined),
        nested: await groups.listNestedMembers(parent!, 10, undefined),
        userGroups: await groups.listUserGroups(userA, 10, undefined),
        names: await groups.listUserGroupNames(userA),
        removeMember: await groups.deleteMember(child!, userA),
        addMember: await groups.insertMember(child!, userA).then(
          () => 'added',
          (error: { code?: string }) => error.code,
        ),
        deleteSubtree: await groups.deleteSubtree(parent!),
        delete: await groups.deleteGroup(child!),
      };
    },
    nothing: {
      find: undefined,
      list: [],
      update: undefined,
      children: 0,
      ancestor: false,
      direct: [],
      nested: [],
      userGroups: [],
      names: [],
      removeMember: false,
      addMember: '23503', // the composite foreign keys: A's group and user are not B's
      deleteSubtree: 0,
      delete: false,
    },
    async atOwnPool({ a, userA }) {
      return createGroupQueries(db(), a).listUserGroupNames(userA);
    },
    own: ['child', 'parent'],
  },

  passkeys: {
    async seed({ a, userA }) {
      const passkeys = createPasskeyQueries(db(), a);
      const passkey = await passkeys.insertPasskey({
        id: randomUUID(),
        user_id: userA,
        credential_id: 'credential-a',
        public_key: 'key',
        counter: 0,
        transports: '[]',
        backup_eligible: false,
        backed_up: false,
        aaguid: '00000000-0000-0000-0000-000000000000',
        name: 'Key of A',
      });
      await passkeys.insertChallenge({ challenge: 'challenge-a', purpose: 'authentication', user_id: null, interaction_uid: null, expires_at: later() });
      return { passkey: passkey.id };
    },
    async atOtherPool({ b, userA }, { passkey }) {
      const passkeys = createPasskeyQueries(db(), b);
      await passkeys.purgeExpiredChallenges(new Date(Date.now() + 24 * 60 * 60 * 1000));
      return {
        find: await passkeys.findPasskey(passkey!),
        byCredential: await passkeys.findPasskeyByCredentialId('credential-a'),
        list: await passkeys.listUserPasskeys(userA),
        page: await passkeys.listUserPasskeysPage(userA, 10, undefined),
        count: await passkeys.countUserPasskeys(userA),
        use: await passkeys.recordPasskeyUse(passkey!, 0, { counter: 5, backed_up: true }),
        rename: await passkeys.renamePasskey(userA, passkey!, 'renamed by B'),
        delete: await passkeys.deletePasskey(userA, passkey!),
        challenge: await passkeys.takeChallenge('challenge-a', new Date()),
      };
    },
    nothing: { find: undefined, byCredential: undefined, list: [], page: [], count: 0, use: false, rename: undefined, delete: false, challenge: undefined },
    async atOwnPool({ a }, { passkey }) {
      const passkeys = createPasskeyQueries(db(), a);
      const row = await passkeys.findPasskey(passkey!);
      return { name: row?.name, counter: Number(row?.counter), challenge: (await passkeys.takeChallenge('challenge-a', new Date()))?.challenge };
    },
    own: { name: 'Key of A', counter: 0, challenge: 'challenge-a' },
  },

  secrets: {
    seed: async () => ({}),
    async atOtherPool({ b, secretA }) {
      const secrets = createSecretQueries(db(), b);
      await secrets.moveSecrets('current', 'revoked');
      return { live: await secrets.findLiveSecretByHash(hashSecret(secretA)) };
    },
    nothing: { live: undefined },
    atOwnPool: async ({ a, secretA }) => (await createSecretQueries(db(), a).findLiveSecretByHash(hashSecret(secretA)))?.status,
    own: 'current',
  },

  keys: {
    async seed({ a }) {
      const current = (await createKeyQueries(db(), a).listKeys()).filter((key) => key.status === 'current').map((key) => key.kid);
      return { current: current.join(' ') };
    },
    async atOtherPool({ b }, { current }) {
      const keys = createKeyQueries(db(), b);
      await keys.moveKeys('current', 'revoked');
      return { seen: (await keys.listKeys()).filter((key) => current!.split(' ').includes(key.kid)) };
    },
    nothing: { seen: [] },
    async atOwnPool({ a }, { current }) {
      const keys = await createKeyQueries(db(), a).listKeys();
      return (
        keys
          .filter((key) => key.status === 'current')
          .map((key) => key.kid)
          .join(' ') === current
      );
    },
    own: true,
  },

  audit: {
    async seed({ a }) {
      await createAuditQueries(db(), a).insertAuditEvent({
        id: 'fffffffffff00000aaaaaaaaaaaa',
        actor_kind: 'system',
        action: 'isolation.test',
        outcome: 'success',
        details: '{}',
      });
      return {};
    },
    async atOtherPool({ b }) {
      return { list: await createAuditQueries(db(), b).listAuditEvents({ action: 'isolation.test' }, 10, undefined) };
    },
    nothing: { list: [] },
    atOwnPool: async ({ a }) => (await createAuditQueries(db(), a).listAuditEvents({ action: 'isolation.test' }, 10, undefined)).length,
    own: 1,
  },

  webhooks: {
    async seed({ a }) {
      const id = randomUUID();
      const now = new Date();
      await createWebhookQueries(db(), a).insertWebhook({
        id,
        url: 'https://hooks.example.test/a',
        event_types: JSON.stringify(['*']),
        secret_enc: 'sealed',
        created_at: now,
        updated_at: now,
      });
      const eventId = 'fffffffffff00001bbbbbbbbbbbb';
      // The event queues a delivery to A's webhook in the same statement.
      await createAuditQueries(db(), a).insertAuditEvent({ id: eventId, actor_kind: 'system', action: 'isolation.webhook', outcome: 'success', details: '{}' });
      return { id, eventId, deliveryId: `${eventId}.${id}` };
    },
    async atOtherPool({ b }, seeded) {
      const { id, eventId, deliveryId } = seeded as { id: string; eventId: string; deliveryId: string };
      const queries = createWebhookQueries(db(), b);
      return {
        find: await queries.findWebhook(id),
        list: await queries.listWebhooks(10, undefined),
        update: await queries.updateWebhook(id, { url: 'https://evil.example.test' }),
        deliveries: await queries.listDeliveries(id, undefined, 10, undefined),
        delivery: await queries.findDelivery(id, deliveryId),
        attempts: await queries.listAttempts([deliveryId]),
        redeliver: await queries.insertDelivery({ id: `${deliveryId}.again`, webhook_id: id, event_id: eventId }).then(
          () => 'inserted',
          (error: { code?: string }) => error.code,
        ),
        delete: await queries.deleteWebhook(id),
      };
    },
    nothing: { find: undefined, list: [], update: undefined, deliveries: [], delivery: undefined, attempts: [], redeliver: '23503', delete: false },
    atOwnPool: async ({ a }, { id }) => {
      const queries = createWebhookQueries(db(), a);
      return { url: (await queries.findWebhook(id!))?.url, deliveries: (await queries.listDeliveries(id!, undefined, 10, undefined)).length };
    },
    own: { url: 'https://hooks.example.test/a', deliveries: 1 },
  },

  lockouts: {
    async seed({ a, userA }) {
      const lockouts = createLockoutQueries(db(), a);
      await lockouts.countUserFailure(userA, new Date(), 60_000, 5);
      return {};
    },
    async atOtherPool({ b, userA, emailA }) {
      const lockouts = createLockoutQueries(db(), b);
      return {
        lockout: await lockouts.findLockout(userA),
        state: await lockouts.findSignInState(emailA),
        clear: await lockouts.clearLockout(userA),
      };
    },
    nothing: { lockout: undefined, state: { user: undefined, lockout: undefined }, clear: false },
    async atOwnPool({ a, userA }) {
      const lockouts = createLockoutQueries(db(), a);
      return (await lockouts.findLockout(userA))?.failures;
    },
    own: 1,
  },

  'second-factor failures': {
    async seed({ a, userA }) {
      await createFactorFailureQueries(db(), a).countFailure(userA);
      return {};
    },
    async atOtherPool({ b, userA }) {
      const failures = createFactorFailureQueries(db(), b);
      await failures.resetFailures(userA);
      // Pool B has no such user: the composite foreign key refuses a count for them.
      return {
        count: await failures.countFailure(userA).then(
          () => 'counted',
          () => 'refused',
        ),
      };
    },
    nothing: { count: 'refused' },
    async atOwnPool({ a, userA }) {
      // A's count was neither reset nor shared: one more wrong factor makes two.
      return createFactorFailureQueries(db(), a).countFailure(userA);
    },
    own: 2,
  },

  'account artifacts': {
    async seed({ a, userA }) {
      await db()
        .insertInto('oidc_artifacts')
        .values({
          pool_id: a,
          model: 'Session',
          id: `session-${userA}`,
          payload: JSON.stringify({ accountId: userA }),
          grant_id: null,
          user_code: null,
          uid: null,
          expires_at: later(),
        })
        .execute();
      return {};
    },
    async atOtherPool({ b, userA }) {
      const queries = createAccountArtifactQueries(db(), b);
      return {
        listed: await queries.listSessionsOfAccount(userA),
        endedOne: await queries.deleteSessionOfAccount(userA, `session-${userA}`),
        endedOthers: await queries.deleteOtherSessionsOfAccount(userA, 'another-uid'),
        endedAllButOne: await queries.deleteArtifactsOfAccountExcept(userA, 'another-uid'),
        deleted: await queries.deleteArtifactsOfAccount(userA),
      };
    },
    nothing: { listed: [], endedOne: false, endedOthers: 0, endedAllButOne: 0, deleted: 0 },
    atOwnPool: async ({ a, userA }) => createAccountArtifactQueries(db(), a).deleteArtifactsOfAccount(userA),
    own: 1,
  },

  invitations: {
    async seed({ a }) {
      const invitee = await tarn.admin('POST', `/pools/${a}/users`, { email: 'isolation-invitee@example.test', mode: 'invite' });
      return { invitee: invitee.body.id as string };
    },
    async atOtherPool({ b }, { invitee }) {
      const invitations = createInvitationQueries(db(), b);
      return { byIds: await invitations.byIds([invitee!], new Date()), uninvited: await invitations.uninvited(new Date(0), 100) };
    },
    nothing: { byIds: [], uninvited: [] },
    async atOwnPool({ a }, { invitee }) {
      return (await createInvitationQueries(db(), a).byIds([invitee!], new Date())).map((user) => ({ id: user.id, invited: user.invited }));
    },
    own: [{ id: expect.any(String), invited: true }],
  },
};

describe.each(Object.entries(cases))('the %s queries of pool B', (_name, module) => {
  it('find, list, count, change and delete nothing of pool A', async () => {
    const pools = await twoPools();
    const seeded = await module.seed(pools);
    expect(await module.atOtherPool(pools, seeded)).toEqual(module.nothing);
    expect(await module.atOwnPool(pools, seeded)).toEqual(module.own);
  });
});
