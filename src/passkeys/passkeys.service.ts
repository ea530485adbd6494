/**
 * Passkeys (WebAuthn Level 3) of a pool's users: registration and authentication
 * ceremonies, and the list/rename/delete that users and admins do.
 * Rules enforced here:
 * - only when the pool's `signIn.passkey` is on (otherwise every entry point is "not found");
 * - relying-party id = PUBLIC_URL's hostname, expected origin = PUBLIC_URL's origin (§5.1.3, §7.1 step 9/7.2 step 13);
 * - challenges are random, stored server-side per pool, single-use (taken by DELETE … RETURNING,
 *   whether the ceremony then succeeds or not) and expire after CHALLENGE_TTL_MS;
 * - a challenge only completes the ceremony it was made for: same purpose, same user,
 *   same sign-in interaction;
 * - resident keys and user verification are required: a passkey is a whole sign-in, not a second factor;
 * - the signature counter must grow when either side is non-zero (§6.1.1; a regression hints at a
 *   cloned authenticator and is refused), and the backup-eligible flag may never change (§6.1.3);
 * - asking for a sign-in with an email answers the same way whether or not the account exists
 *   (an unknown email gets a stable, made-up credential id).
 */
import { randomUUID } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { z } from 'zod';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import { hmac, safeEqual } from '../crypto/secrets.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PasskeyRow, PoolRow, UserRow } from '../db/tables.js';
import { isUuid } from '../http/ids.js';
import { toPage, type PageQuery } from '../http/pagination.js';
import { problems } from '../http/problem.js';
import { createUserQueries } from '../users/users.queries.js';
import type { UserService } from '../users/users.service.js';
import { createPasskeyQueries } from './passkeys.queries.js';
import type { RenamePasskeyInput } from './passkeys.schemas.js';

/**
 * The WebAuthn library, loaded by the first ceremony: with its ASN.1 and COSE dependencies it
 * holds ≈ 30 MiB of a process that may never see a passkey.
 */
let webauthnLibrary: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => (webauthnLibrary ??= import('@simplewebauthn/server'));

export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** How long after activation (or another sign-in outside an interaction) a user may add a passkey. */
export const ENROLMENT_GRANT_TTL_MS = 15 * 60 * 1000;
const CEREMONY_TIMEOUT_MS = CHALLENGE_TTL_MS - 30 * 1000;

/** Why a ceremony was refused: logged and tested; users see one calm message per ceremony. */
export type RefusalReason =
  'malformed' | 'challenge' | 'unknown-credential' | 'wrong-user' | 'inactive-user' | 'verification' | 'counter' | 'backup-eligibility' | 'already-registered';

export class PasskeyRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'PasskeyRefused';
  }
}

const b64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*={0,2}$/)
  .max(16_384);
const credentialJson = z.object({
  id: b64url.min(1),
  rawId: b64url.min(1),
  type: z.literal('public-key'),
  response: z.object({ clientDataJSON: b64url.min(1) }).passthrough(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional().nullable(),
});

export function toPasskeyResponse(row: PasskeyRow) {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    backupEligible: row.backup_eligible,
    backedUp: row.backed_up,
    transports: row.transports,
    aaguid: row.aaguid,
  };
}

export interface PasskeyServiceDeps {
  db: Db;
  users: UserService;
  publicUrl: string;
  /** Key for the made-up credential ids answered for unknown emails. */
  secret: Buffer;
  clock?: () => number;
}

export interface Binding {
  /** The sign-in interaction that asked for the challenge; the answer must come back through it. */
  interactionUid?: string | undefined;
}

export function isPasskeyEnabled(pool: Pick<PoolRow, 'sign_in'>): boolean {
  return pool.sign_in.passkey === true;
}

/** The JSON a browser sends back from navigator.credentials.create/get, or a refusal. */
function parseCredential(raw: unknown): { json: z.infer<typeof credentialJson>; challenge: string } {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      throw new PasskeyRefused('malformed', 'not JSON');
    }
  }
  const parsed = credentialJson.safeParse(value);
  if (!parsed.success) throw new PasskeyRefused('malformed', parsed.error.issues[0]?.message);
  let challenge: unknown;
  try {
    challenge = (JSON.parse(Buffer.from(parsed.data.response.clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
  } catch {
    throw new PasskeyRefused('malformed', 'clientDataJSON');
  }
  if (typeof challenge !== 'string' || !challenge) throw new PasskeyRefused('malformed', 'no challenge');
  return { json: parsed.data, challenge };
}

export function createPasskeyService(deps: PasskeyServiceDeps) {
  const clock = deps.clock ?? Date.now;
  const publicUrl = new URL(deps.publicUrl);
  const rpID = publicUrl.hostname;
  const origin = publicUrl.origin;

  /** The user's own passkeys exist only while the pool offers passkeys. */
  function assertEnabled(pool: PoolRow): void {
    if (!isPasskeyEnabled(pool)) throw problems.notFound('Passkey', 'Passkeys are not enabled in this pool.');
  }

  async function saveChallenge(poolId: string, challenge: string, purpose: 'registration' | 'authentication', userId: string | null, binding: Binding) {
    const queries = createPasskeyQueries(deps.db, poolId);
    const now = clock();
    // Expired challenges of the pool go as new ones come (index on (pool_id, expires_at)).
    await queries.purgeExpiredChallenges(new Date(now));
    await queries.insertChallenge({
      challenge,
      purpose,
      user_id: userId,
      interaction_uid: binding.interactionUid ?? null,
      expires_at: new Date(now + CHALLENGE_TTL_MS),
    });
  }

  /** Takes (deletes) the challenge and checks it was made for this ceremony. */
  async function takeChallenge(poolId: string, challenge: string, purpose: 'registration' | 'authentication', binding: Binding) {
    const row = await createPasskeyQueries(deps.db, poolId).takeChallenge(challenge, new Date(clock()));
    if (!row || row.purpose !== purpose) throw new PasskeyRefused('challenge', 'unknown, used or expired');
    if ((row.interaction_uid ?? undefined) !== binding.interactionUid) throw new PasskeyRefused('challenge', 'other interaction');
    return row;
  }

  async function getUserPasskeyRow(poolId: string, userId: string, id: string): Promise<PasskeyRow> {
    const row = isUuid(id) ? await createPasskeyQueries(deps.db, poolId).findPasskey(id) : undefined;
    if (!row || row.user_id !== userId) throw problems.notFound('Passkey');
    return row;
  }

  /**
   * The same, saying also whether the key may leave its device (backup eligible, a synced
   * passkey: RFC 8176 `swk`) or not (a device-bound key: `hwk`).
   */
  async function verifyAssertion(pool: PoolRow, response: unknown, binding: Binding = {}): Promise<{ user: UserRow; synced: boolean }> {
    if (!isPasskeyEnabled(pool)) throw problems.notFound('Passkey', 'Passkeys are not enabled in this pool.');
    const { json, challenge } = parseCredential(response);
    const queries = createPasskeyQueries(deps.db, pool.id);
    const row = await takeChallenge(pool.id, challenge, 'authentication', binding);
    const passkey = await queries.findPasskeyByCredentialId(json.id);
    if (!passkey) throw new PasskeyRefused('unknown-credential');
    if (row.user_id !== null && row.user_id !== passkey.user_id) throw new PasskeyRefused('wrong-user', 'not the email asked for');
    const userHandle = (json.response as { userHandle?: unknown }).userHandle;
    if (typeof userHandle === 'string' && userHandle && Buffer.from(userHandle, 'base64url').toString('utf8') !== passkey.user_id) {
      throw new PasskeyRefused('wrong-user', 'user handle');
    }
    const user = await deps.users.findActiveUser(pool.id, passkey.user_id);
    if (!user) throw new PasskeyRefused('inactive-user');
    const storedCounter = Number(passkey.counter);
    let verified;
    try {
      verified = await (
        await webauthn()
      ).verifyAuthenticationResponse({
        response: json as unknown as AuthenticationResponseJSON,
        expectedChallenge: row.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: {
          id: passkey.credential_id,
          publicKey: Buffer.from(passkey.public_key, 'base64url'),
          counter: storedCounter,
          transports: passkey.transports,
        },
        requireUserVerification: true,
      });
    } catch (error) {
      const message = (error as Error).message;
      throw new PasskeyRefused(/counter/i.test(message) ? 'counter' : 'verification', message);
    }
    if (!verified.verified) throw new PasskeyRefused('verification');
    const info = verified.authenticationInfo;
    if ((info.credentialDeviceType === 'multiDevice') !== passkey.backup_eligible) throw new PasskeyRefused('backup-eligibility');
    // Another assertion with the same counter may have won the race: then this one is a replay.
    const recorded = await queries.recordPasskeyUse(passkey.id, storedCounter, { counter: info.newCounter, backed_up: info.credentialBackedUp });
    if (!recorded) throw new PasskeyRefused('counter', 'raced');
    await createUserQueries(deps.db, pool.id).touchLastLogin(user.id);
    return { user, synced: passkey.backup_eligible };
  }

  async function listPage(poolId: string, userId: string, page: PageQuery) {
    const after = page.cursor !== undefined && isUuid(page.cursor) ? page.cursor : undefined;
    const rows = await createPasskeyQueries(deps.db, poolId).listUserPasskeysPage(userId, page.limit + 1, after);
    return toPage(rows, page.limit, (row) => row.id, toPasskeyResponse);
  }

  return {
    rpID,
    origin,

    /**
     * A short-lived, signed permission to add a passkey to this user, for enrolment outside a
     * sign-in interaction (right after invitation activation). The routes keep it in an
     * httpOnly cookie, so it stays with the browser that activated the account.
     */
    issueEnrolmentGrant(poolId: string, userId: string): string {
      const expires = clock() + ENROLMENT_GRANT_TTL_MS;
      return `${userId}.${expires}.${hmac(deps.secret, `passkey-enrol:${poolId}:${userId}:${expires}`)}`;
    },

    /** The user an enrolment grant names, when it is genuine, for this pool, and not expired. */
    readEnrolmentGrant(poolId: string, grant: string | undefined): string | undefined {
      const [userId, expires, mac] = (grant ?? '').split('.');
      if (!userId || !expires || !mac || !isUuid(userId) || !/^\d+$/.test(expires)) return undefined;
      if (!safeEqual(mac, hmac(deps.secret, `passkey-enrol:${poolId}:${userId}:${expires}`))) return undefined;
      return Number(expires) > clock() ? userId : undefined;
    },

    /**
     * Offer the "add a passkey" step to this user now? Passkeys on, and none registered yet —
     * or, after a recovery sign-in (email code), even when they have some: the one they hold
     * may be on a lost device.
     */
    async shouldOfferEnrolment(pool: PoolRow, userId: string, options: { evenWithPasskeys?: boolean } = {}): Promise<boolean> {
      if (!isPasskeyEnabled(pool)) return false;
      if (options.evenWithPasskeys) return true;
      return (await createPasskeyQueries(deps.db, pool.id).countUserPasskeys(userId)) === 0;
    },

    async startRegistration(pool: PoolRow, user: UserRow, binding: Binding = {}): Promise<PublicKeyCredentialCreationOptionsJSON> {
      if (!isPasskeyEnabled(pool)) throw problems.notFound('Passkey', 'Passkeys are not enabled in this pool.');
      const existing = await createPasskeyQueries(deps.db, pool.id).listUserPasskeys(user.id);
      const options = await (
        await webauthn()
      ).generateRegistrationOptions({
        rpName: pool.name,
        rpID,
        // The user handle is the user's id (no personal data, §14.6.1); the email is only a label.
        userID: new TextEncoder().encode(user.id),
        userName: user.email,
        userDisplayName: typeof user.profile.name === 'string' ? user.profile.name : user.email,
        timeout: CEREMONY_TIMEOUT_MS,
        attestationType: 'none',
        excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: row.transports })),
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      });
      await saveChallenge(pool.id, options.challenge, 'registration', user.id, binding);
      return options;
    },

    /** Verifies the browser's answer to startRegistration and stores the new passkey. */
    /** `record` writes `user.passkey_added` with the new passkey (ADR 0809). */
    async finishRegistration(
      pool: PoolRow,
      userId: string,
      response: unknown,
      binding: Binding = {},
      name?: string,
      record?: RecordChange,
    ): Promise<PasskeyRow> {
      if (!isPasskeyEnabled(pool)) throw problems.notFound('Passkey', 'Passkeys are not enabled in this pool.');
      const { json, challenge } = parseCredential(response);
      const row = await takeChallenge(pool.id, challenge, 'registration', binding);
      if (row.user_id !== userId) throw new PasskeyRefused('wrong-user');
      let verified;
      try {
        verified = await (
          await webauthn()
        ).verifyRegistrationResponse({
          response: json as unknown as RegistrationResponseJSON,
          expectedChallenge: row.challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: true,
        });
      } catch (error) {
        throw new PasskeyRefused('verification', (error as Error).message);
      }
      if (!verified.verified) throw new PasskeyRefused('verification');
      const info = verified.registrationInfo;
      const count = await createPasskeyQueries(deps.db, pool.id).countUserPasskeys(userId);
      try {
        return await changeWithEvents(
          deps.db,
          record,
          (executor) =>
            createPasskeyQueries(executor, pool.id).insertPasskey({
              id: randomUUID(),
              user_id: userId,
              credential_id: info.credential.id,
              public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
              counter: info.credential.counter,
              transports: JSON.stringify(info.credential.transports ?? []),
              backup_eligible: info.credentialDeviceType === 'multiDevice',
              backed_up: info.credentialBackedUp,
              aaguid: info.aaguid,
              name: name?.trim().slice(0, 100) || (count === 0 ? 'Passkey' : `Passkey ${count + 1}`),
            }),
          (inserted) => [{ action: 'user.passkey_added', target: { type: 'user', id: userId }, details: { passkeyId: inserted.id } }],
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new PasskeyRefused('already-registered');
        throw error;
      }
    },

    /**
     * Options for a sign-in. Without an email: any discoverable credential of this pool.
     * With one: that user's credentials, or a stable made-up one when there is no such
     * active user, so the answer does not tell whether the account exists.
     */
    async startAuthentication(pool: PoolRow, email: string | undefined, binding: Binding = {}): Promise<PublicKeyCredentialRequestOptionsJSON> {
      if (!isPasskeyEnabled(pool)) throw problems.notFound('Passkey', 'Passkeys are not enabled in this pool.');
      let allowCredentials: { id: string; transports?: string[] }[] | undefined;
      let userId: string | null = null;
      if (email) {
        const user = await createUserQueries(deps.db, pool.id).findUserByEmail(email);
        const rows = user?.status === 'active' ? await createPasskeyQueries(deps.db, pool.id).listUserPasskeys(user.id) : [];
        if (rows.length > 0) {
          userId = user!.id;
          allowCredentials = rows.map((row) => ({ id: row.credential_id, transports: row.transports }));
        } else {
          const madeUp = hmac(deps.secret, `passkey-decoy:${pool.id}:${email.toLowerCase()}`).slice(0, 43);
          allowCredentials = [{ id: madeUp, transports: ['internal', 'hybrid'] }];
        }
      }
      const options = await (
        await webauthn()
      ).generateAuthenticationOptions({
        rpID,
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: 'required',
        ...(allowCredentials ? { allowCredentials } : {}),
      });
      await saveChallenge(pool.id, options.challenge, 'authentication', userId, binding);
      return options;
    },

    /** Verifies an assertion: the active user it proves, or PasskeyRefused. */
    async finishAuthentication(pool: PoolRow, response: unknown, binding: Binding = {}): Promise<UserRow> {
      return (await verifyAssertion(pool, response, binding)).user;
    },

    verifyAssertion,

    // Self-service (the signed-in user) and admin management. Another user's or pool's passkey is not found.

    async listMyPasskeys(pool: PoolRow, userId: string) {
      assertEnabled(pool);
      const poolId = pool.id;
      const rows = await createPasskeyQueries(deps.db, poolId).listUserPasskeys(userId);
      return { items: rows.map(toPasskeyResponse) };
    },

    async renameMyPasskey(pool: PoolRow, userId: string, id: string, { name }: RenamePasskeyInput) {
      assertEnabled(pool);
      const poolId = pool.id;
      await getUserPasskeyRow(poolId, userId, id);
      const row = await createPasskeyQueries(deps.db, poolId).renamePasskey(userId, id, name);
      if (!row) throw problems.notFound('Passkey');
      return toPasskeyResponse(row);
    },

    /** `record` writes `user.passkey_removed` with the removal (ADR 0809). */
    async deleteMyPasskey(pool: PoolRow, userId: string, id: string, record?: RecordChange): Promise<void> {
      assertEnabled(pool);
      const poolId = pool.id;
      await getUserPasskeyRow(poolId, userId, id);
      await changeWithEvents(
        deps.db,
        record,
        (executor) => createPasskeyQueries(executor, poolId).deletePasskey(userId, id),
        () => [{ action: 'user.passkey_removed', target: { type: 'user', id: userId }, details: { passkeyId: id } }],
      );
    },

    /** Admins see and remove passkeys even after the pool turned passkeys off (to clean up). */
    async listUserPasskeys(poolId: string, userId: string, page: PageQuery) {
      await deps.users.getUserRow(poolId, userId);
      return listPage(poolId, userId, page);
    },

    /** The admin's removal; `record` writes its event in the removal's transaction (ADR 0809). */
    async deleteUserPasskey(poolId: string, userId: string, id: string, record?: RecordChange): Promise<void> {
      await deps.users.getUserRow(poolId, userId);
      await getUserPasskeyRow(poolId, userId, id);
      await changeWithEvents(deps.db, record, async (executor) => {
        // Removed meanwhile: nothing happened, and nothing is written.
        if (!(await createPasskeyQueries(executor, poolId).deletePasskey(userId, id))) throw problems.notFound('Passkey');
      });
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
