/** Row types of every table, as Kysely sees them. Column names are the SQL ones (snake_case). */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface PoolTable {
  id: string;
  name: string;
  description: Generated<string>;
  logo_url: string | null;
  tag_color: string | null;
  /** The language of hosted pages and mails when nothing else names one (docs/adr/0400); null: English. */
  default_locale: ColumnType<string | null, string | null | undefined, string | null>;
  self_registration: Generated<boolean>;
  sign_in: Json<SignInSettings>;
  profile_schema: Json<Record<string, unknown> | null>;
  metadata_schema: Json<Record<string, unknown> | null>;
  password_policy: Json<PasswordPolicy>;
  lockout: Json<LockoutSettings>;
  account: ColumnType<AccountSettings, string | undefined, string>;
  /** 018: colours, scheme, per-language texts and the uploaded assets' hashes (docs/adr/0401). */
  branding: ColumnType<BrandingSettings, string | undefined, string>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A text in several languages: BCP 47 language tag → text. */
export type LocalizedText = Record<string, string>;

/** 018: a pool's branding (docs/adr/0401); every field optional, Tarn's look where absent. */
export interface BrandingSettings {
  primaryColor?: string;
  backgroundColor?: string;
  textColor?: string;
  scheme?: 'light' | 'dark';
  title?: LocalizedText;
  signInSubtitle?: LocalizedText;
  footer?: LocalizedText;
  termsUrl?: LocalizedText;
  privacyUrl?: LocalizedText;
  /** Set by an upload: the asset's media type and SHA-256 (hex), which its URL carries. */
  logo?: BrandAssetRef;
  favicon?: BrandAssetRef;
}

export interface BrandAssetRef {
  mediaType: BrandAssetMediaType;
  sha256: string;
  size: number;
}

export type BrandAssetMediaType = 'image/png' | 'image/webp' | 'image/svg+xml';
export type BrandAssetKind = 'logo' | 'favicon';

export interface PoolAssetTable {
  pool_id: string;
  kind: BrandAssetKind;
  sha256: string;
  media_type: BrandAssetMediaType;
  content: Buffer;
  created_at: Timestamp;
}

export interface MailTemplateTable {
  pool_id: string;
  kind: string;
  language: string;
  subject: string;
  html: string;
  text: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConsentGrantTable {
  pool_id: string;
  user_id: string;
  client_id: string;
  grant_id: string;
  implicit: Generated<boolean>;
  updated_at: Timestamp;
}

export interface SignInSettings {
  password: boolean;
  emailCode: boolean;
  passkey: boolean;
  /** Second factor after a password: never asked (`off`), offered after sign-in (`optional`), or enrolled at the next sign-in (`required`). */
  mfa?: MfaPolicy;
  /** 017: whether a code mailed to the user's verified address counts as a second factor (docs/adr/0309); off unless set. */
  emailSecondFactor?: boolean;
}

/** What users may do on the pool's hosted account page (docs/adr/0306). */
export interface AccountSettings {
  /** Whether a user may delete their own account there (default false). */
  allowDeletion: boolean;
}

export type MfaPolicy = 'off' | 'optional' | 'required';

export interface PasswordPolicy {
  minLength: number;
}

export interface LockoutSettings {
  maxAttempts: number;
  windowSeconds: number;
}

export type SecretStatus = 'current' | 'next' | 'revoked';
export interface PoolSecretTable {
  pool_id: string;
  id: string;
  status: SecretStatus;
  secret_hash: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export type KeyStatus = 'next' | 'current' | 'retired' | 'revoked';
export type KeyAlg = 'RS256' | 'ES256';
export interface SigningKeyTable {
  pool_id: string;
  kid: string;
  alg: KeyAlg;
  status: KeyStatus;
  public_jwk: Json<Record<string, unknown>>;
  private_jwk_enc: string;
  created_at: Timestamp;
  activated_at: Timestamp | null;
  retired_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface ClientTable {
  pool_id: string;
  client_id: string;
  name: string;
  secret_enc: string | null;
  redirect_uris: Json<string[]>;
  post_logout_redirect_uris: Json<string[]>;
  grant_types: Json<string[]>;
  token_endpoint_auth_method: string;
  backchannel_logout_uri: string | null;
  client_uri: ColumnType<string | null, string | null | undefined, string | null>;
  initiate_login_uri: ColumnType<string | null, string | null | undefined, string | null>;
  jwks: Json<{ keys: Record<string, unknown>[] } | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  secret_rotated_at: Timestamp | null;
  /** 005_protocol: RFC 9449 §5.2 and the client's resource servers (docs/adr/0600). */
  dpop_bound_access_tokens: Generated<boolean>;
  resources: ColumnType<ClientResource[], string | undefined, string>;
  /** 008: OIDC Registration §2 id_token_signed_response_alg; null means RS256. */
  id_token_signed_response_alg: ColumnType<string | null, string | null | undefined, string | null>;
  /** 008: refresh-token reuse grace period in seconds (docs/adr/0604); 0 is strict. */
  refresh_token_reuse_grace_seconds: Generated<number>;
  /** 017: every sign-in to this application needs a second factor (docs/adr/0309). */
  require_mfa: Generated<boolean>;
  /** 018: the pool owner's own application: no consent page (docs/adr/0401). */
  first_party: Generated<boolean>;
}

/** A resource server (RFC 8707 indicator) an application may get access tokens for. */
export interface ClientResource {
  uri: string;
  scopes: string[];
}

export type UserStatus = 'new' | 'active' | 'disabled';
export interface UserTable {
  pool_id: string;
  id: string;
  email: string;
  email_verified: Generated<boolean>;
  phone: string | null;
  status: UserStatus;
  profile: Json<Record<string, unknown>>;
  metadata: Json<Record<string, unknown>>;
  password_hash: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_login_at: Timestamp | null;
  /** 011: what an import asked for the user's next sign-in (docs/adr/0305). */
  password_change: ColumnType<PasswordChange | null, PasswordChange | null | undefined, PasswordChange | null>;
}

export type PasswordChange = 'required' | 'if_weak';

export interface OidcArtifactTable {
  pool_id: string;
  model: string;
  id: string;
  payload: Json<Record<string, unknown>>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: Timestamp | null;
  consumed_at: Timestamp | null;
}

export interface Database {
  pools: PoolTable;
  pool_secrets: PoolSecretTable;
  signing_keys: SigningKeyTable;
  clients: ClientTable;
  users: UserTable;
  oidc_artifacts: OidcArtifactTable;
  audit_events: AuditEventTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  passkeys: PasskeyTable;
  webauthn_challenges: WebauthnChallengeTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  one_time_codes: OneTimeCodeTable;
  user_lockouts: UserLockoutTable;
  mail_requests: MailRequestTable;
  connections: ConnectionTable;
  linked_identities: LinkedIdentityTable;
  user_totp: UserTotpTable;
  user_recovery_codes: UserRecoveryCodeTable;
  user_factor_failures: UserFactorFailureTable;
  pool_assets: PoolAssetTable;
  mail_templates: MailTemplateTable;
  consent_grants: ConsentGrantTable;
  administrator_roles: AdministratorRoleTable;
  console_setup_tokens: ConsoleSetupTokenTable;
}

/** 017: wrong second factors of a user since the last right one, whatever the factor. */
export interface UserFactorFailureTable {
  pool_id: string;
  user_id: string;
  failures: Generated<number>;
}

/** An administrator's role (ADR 1000): a user of the admin pool; owner, or admin/viewer of one pool. */
export interface AdministratorRoleTable {
  pool_id: string;
  user_id: string;
  role: 'owner' | 'admin' | 'viewer';
  managed_pool_id: string | null;
  created_at: Generated<Date>;
}

export interface ConsoleSetupTokenTable {
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Generated<Date>;
}

export interface UserRecoveryCodeTable {
  pool_id: string;
  user_id: string;
  code_hash: string;
  used_at: Timestamp | null;
  created_at: Timestamp;
}

export interface UserTotpTable {
  pool_id: string;
  user_id: string;
  secret_enc: string;
  confirmed_at: Timestamp | null;
  /** bigint in SQL; a time step fits a JS number for millions of years. */
  last_step: ColumnType<string | number, number | undefined, number>;
  failures: Generated<number>;
  created_at: Timestamp;
}

export type PoolRow = Selectable<PoolTable>;
export type MailTemplateRow = Selectable<MailTemplateTable>;
export type NewPoolRow = Insertable<PoolTable>;
export type PoolUpdate = Updateable<PoolTable>;
export type SigningKeyRow = Selectable<SigningKeyTable>;
export type ClientRow = Selectable<ClientTable>;
export type UserRow = Selectable<UserTable>;
export type PoolSecretRow = Selectable<PoolSecretTable>;

export type AuditActorKind = 'admin' | 'pool_secret' | 'user' | 'anonymous' | 'system' | 'administrator';
export interface AuditEventTable {
  pool_id: string;
  id: string;
  occurred_at: Timestamp;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure';
  status: number | null;
  request_id: string | null;
  ip: string | null;
  details: Json<Record<string, unknown>>;
}
export type AuditEventRow = Selectable<AuditEventTable>;
export interface PasskeyTable {
  pool_id: string;
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  /** bigint: pg returns it as a string, PGlite as a number. */
  counter: ColumnType<string | number | bigint, number | undefined, number>;
  transports: Json<string[]>;
  backup_eligible: boolean;
  backed_up: boolean;
  aaguid: string;
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

export type WebauthnPurpose = 'registration' | 'authentication';
export interface WebauthnChallengeTable {
  pool_id: string;
  challenge: string;
  purpose: WebauthnPurpose;
  user_id: string | null;
  interaction_uid: string | null;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export type PasskeyRow = Selectable<PasskeyTable>;
export type WebauthnChallengeRow = Selectable<WebauthnChallengeTable>;
export interface GroupTable {
  pool_id: string;
  id: string;
  name: string;
  description: Generated<string>;
  parent_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GroupMemberTable {
  pool_id: string;
  group_id: string;
  user_id: string;
  created_at: Timestamp;
}

export type GroupRow = Selectable<GroupTable>;

export type CodePurpose = 'invitation' | 'registration' | 'sign_in' | 'password_reset' | 'email_change' | 'second_factor' | 'connection_link';
export interface OneTimeCodeTable {
  pool_id: string;
  id: string;
  purpose: CodePurpose;
  user_id: string | null;
  email: string;
  code_hash: string;
  token_hash: string | null;
  payload: Json<Record<string, unknown>>;
  /** Registration: keyed hash of the interaction that submitted it (only it can use the code). */
  binding: string | null;
  attempts: Generated<number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
}

export interface UserLockoutTable {
  pool_id: string;
  user_id: string;
  failures: number;
  window_started_at: Timestamp;
  locked_until: Timestamp | null;
}

/** A request by an anonymous visitor that may mail `address` (normalised, lower-case). */
export interface MailRequestTable {
  pool_id: string;
  address: string;
  ip: string;
  requested_at: Timestamp;
}

export type OneTimeCodeRow = Selectable<OneTimeCodeTable>;
export type UserLockoutRow = Selectable<UserLockoutTable>;

/** 011: an upstream identity provider of a pool (docs/adr/0900). */
export interface ConnectionTable {
  pool_id: string;
  id: string;
  name: string;
  type: 'oidc' | 'oauth2';
  preset: string | null;
  display_name: string;
  logo_url: string | null;
  hidden: Generated<boolean>;
  enabled: Generated<boolean>;
  settings: Json<ConnectionSettings>;
  client_id: string;
  secret_enc: string | null;
  /** 024: the private JWK of private_key_jwt, sealed; absent until the connection uses it. */
  key_enc: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** How a connection reaches its upstream and what it makes of the answer. */
export interface ConnectionSettings {
  issuer?: string;
  tenant?: string;
  /** Microsoft multi-tenant (common, organizations): the tenant ids accepted; absent or empty accepts any. */
  tenants?: string[];
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  profileEndpoint?: string;
  scopes: string[];
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  claimMapping: ClaimMapping;
  emailVerified: 'claim' | 'always' | 'never';
  provisioning: 'just_in_time' | 'existing_users_only';
  /** Keep the upstream's tokens (sealed) on the linked identity; absent means no. */
  storeTokens?: boolean;
  /** private_key_jwt: the public half of the connection's signing key (its private half is `key_enc`). */
  publicJwk?: PublicConnectionJwk;
  /** Send the browser to the upstream's end_session_endpoint when the user signs out of Tarn; absent means no. */
  upstreamLogout?: boolean;
}

/** A connection's public signing key as the upstream registers it (RFC 7517). */
export type PublicConnectionJwk = {
  kty: string;
  n?: string;
  e?: string;
  kid: string;
  alg: string;
  use: 'sig';
};

/** Upstream claim names (dotted paths) filling Tarn's user fields. */
export interface ClaimMapping {
  subject: string;
  email: string;
  emailVerified: string;
  profile: Record<string, string>;
  metadata: Record<string, string>;
}

export interface LinkedIdentityTable {
  pool_id: string;
  connection_id: string;
  subject: string;
  user_id: string;
  created_at: Timestamp;
  /** 022: the upstream's tokens, sealed (identityTokenContext), only where the connection stores them. */
  tokens_enc: string | null;
}

export type ConnectionRow = Selectable<ConnectionTable>;
export type LinkedIdentityRow = Selectable<LinkedIdentityTable>;

export interface WebhookTable {
  pool_id: string;
  id: string;
  url: string;
  description: Generated<string>;
  event_types: Json<string[]>;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_expires_at: Timestamp | null;
  failing_since: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export interface WebhookDeliveryTable {
  pool_id: string;
  id: string;
  webhook_id: string;
  event_id: string;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  locked_until: Timestamp | null;
  last_status_code: number | null;
  last_duration_ms: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
}

export interface WebhookAttemptTable {
  pool_id: string;
  delivery_id: string;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export type WebhookRow = Selectable<WebhookTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;
