/**
 * A software WebAuthn authenticator (ES256, "none" attestation) for service-level tests: it
 * builds real authenticator data, CBOR attestation objects and ECDSA signatures, so the
 * server's real verification code runs, and it can do what a browser never would — answer
 * for another origin, replay an answer, send an old counter, flip the backup flags.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 256) return Buffer.from([(major << 5) | 24, length]);
  const out = Buffer.alloc(3);
  out[0] = (major << 5) | 25;
  out.writeUInt16BE(length, 1);
  return out;
}

/** The few CBOR types WebAuthn needs (RFC 8949 §3.1). */
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const challengeOf = (options: { challenge: string }) => options.challenge;

export interface SoftCredentialOptions {
  /** Backup eligible (a synced passkey) and backed up. */
  backupEligible?: boolean;
  backedUp?: boolean;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly cose: Buffer;
  counter = 0;
  backupEligible: boolean;
  backedUp: boolean;

  constructor(
    readonly rpId: string,
    readonly origin: string,
    options: SoftCredentialOptions = {},
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.cose = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    this.backupEligible = options.backupEligible ?? false;
    this.backedUp = options.backedUp ?? false;
  }

  private authData(attested: boolean): Buffer {
    // WebAuthn §6.1: UP 0x01, UV 0x04, BE 0x08, BS 0x10, AT 0x40.
    const flags = 0x01 | 0x04 | (this.backupEligible ? 0x08 : 0) | (this.backedUp ? 0x10 : 0) | (attested ? 0x40 : 0);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const parts: Buffer[] = [sha256(this.rpId), Buffer.from([flags]), counter];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), length, this.credentialId, this.cose);
    }
    return Buffer.concat(parts);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create, as JSON. */
  create(options: { challenge: string }, origin = this.origin) {
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData: this.authData(true) });
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', challengeOf(options), origin)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
    };
  }

  /** navigator.credentials.get, as JSON; the counter moves on unless told otherwise. */
  get(options: { challenge: string }, { origin = this.origin, userHandle, counter }: { origin?: string; userHandle?: string; counter?: number } = {}) {
    this.counter = counter ?? this.counter + 1;
    const authData = this.authData(false);
    const clientDataJSON = this.clientData('webauthn.get', challengeOf(options), origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle ? { userHandle: b64url(userHandle) } : {}),
      },
    };
  }
}
