/** Base64 as the exporting systems write it: standard or URL-safe, padded or not, passlib's "." for "+". */
export function decodeBase64(text: string): Buffer | undefined {
  const normalised = text.trim().replace(/\./g, '+').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalised) || normalised.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(normalised, 'base64');
}

export function encodeBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** A positive integer written in decimal, within [min, max]. */
export function parseBoundedInt(text: string | number | undefined, min: number, max: number): number | undefined {
  const value = typeof text === 'number' ? text : /^\d{1,10}$/.test(text ?? '') ? Number(text) : NaN;
  return Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}
