/**
 * scrypt (RFC 7914) in the PHC-style string passlib and others write:
 *   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>
 * stored the same way, checked with node:crypto and compared in constant time.
 */
import { scrypt, timingSafeEqual } from 'node:crypto';
import { decodeBase64, encodeBase64, parseBoundedInt } from './encoding.js';

/** scrypt needs 128·N·r bytes: at most 256 MiB for one sign-in, whatever the import says. */
export const MAX_SCRYPT_BYTES = 256 * 1024 * 1024;
const SCRYPT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/;

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function read(stored: string): ScryptParams | undefined {
  const match = SCRYPT.exec(stored);
  if (!match) return undefined;
  const logN = parseBoundedInt(match[1], 1, 20);
  const r = parseBoundedInt(match[2], 1, 32);
  const p = parseBoundedInt(match[3], 1, 4);
  const salt = decodeBase64(match[4]!);
  const hash = decodeBase64(match[5]!);
  if (!logN || !r || !p || !salt || !hash || hash.length < 16) return undefined;
  if (128 * 2 ** logN * r > MAX_SCRYPT_BYTES) return undefined;
  return { logN, r, p, salt, hash };
}

export function parseScrypt(hash: string): string | undefined {
  const params = read(hash);
  if (!params) return undefined;
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${encodeBase64(params.salt)}$${encodeBase64(params.hash)}`;
}

export function isScrypt(stored: string): boolean {
  return stored.startsWith('$scrypt$');
}

/** scrypt with enough memory allowed for the parameters (node's default stops at 32 MiB). */
export function deriveScrypt(password: Buffer | string, salt: Buffer, logN: number, r: number, p: number, length: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function verifyScrypt(stored: string, password: string): Promise<boolean> {
  const params = read(stored);
  if (!params) return false;
  const derived = await deriveScrypt(password, params.salt, params.logN, params.r, params.p, params.hash.length);
  return timingSafeEqual(derived, params.hash);
}
