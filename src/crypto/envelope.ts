/**
 * Encryption at rest for private keys and client secrets: AES-256-GCM under the
 * key-encryption key (TARN_MASTER_KEY). The associated data binds a ciphertext to the
 * row it belongs to, so a value copied into another pool's row does not decrypt.
 * Format: "v1.<iv>.<tag>.<ciphertext>", base64url parts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Envelope {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export function createEnvelope(masterKey: Buffer): Envelope {
  if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unrecognised sealed value');
      const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
