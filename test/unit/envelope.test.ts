/** Encryption at rest: sealed values open only with the same key and for the same row. */
import { randomBytes } from 'node:crypto';
import { createEnvelope } from '../../src/crypto/envelope.js';

it('round-trips, and refuses another key, another context or a tampered value', () => {
  const key = randomBytes(32);
  const envelope = createEnvelope(key);
  const sealed = envelope.seal('{"d":"private"}', 'signing-key:pool-a:kid1');
  expect(sealed).not.toContain('private');
  expect(envelope.open(sealed, 'signing-key:pool-a:kid1')).toBe('{"d":"private"}');
  expect(() => envelope.open(sealed, 'signing-key:pool-b:kid1')).toThrow();
  expect(() => createEnvelope(randomBytes(32)).open(sealed, 'signing-key:pool-a:kid1')).toThrow();
  const parts = sealed.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  expect(() => envelope.open(parts.join('.'), 'signing-key:pool-a:kid1')).toThrow();
  // A fresh nonce each time: the same plaintext never seals the same way twice.
  expect(envelope.seal('x', 'c')).not.toBe(envelope.seal('x', 'c'));
});
