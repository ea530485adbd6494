/** A public JSON Web Key (RFC 7517) as the admin API answers it: a pool's signing key, a client's key. */
import { z } from 'zod';

export const publicJwkResponse = z
  .object({
    kty: z.string().describe('Key type: RSA or EC.'),
    kid: z.string().optional(),
    alg: z.string().optional(),
    use: z.string().optional(),
    n: z.string().optional().describe('RSA modulus (base64url).'),
    e: z.string().optional().describe('RSA exponent (base64url).'),
    crv: z.string().optional().describe('EC curve, e.g. P-256.'),
    x: z.string().optional().describe('EC x coordinate (base64url).'),
    y: z.string().optional().describe('EC y coordinate (base64url).'),
  })
  .catchall(z.unknown())
  .describe('A public JSON Web Key (RFC 7517); other public members (x5c, key_ops…) are kept as given.');

/** What Tarn stores of a public key: checked again against publicJwkResponse on the way out. */
export type PublicJwk = z.input<typeof publicJwkResponse>;
