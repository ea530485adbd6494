/**
 * argon2id and argon2i in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
 * kept as is: the argon2 package reads the parameters from the string, whatever they are.
 * argon2d is refused: it is meant for proof-of-work, not passwords (RFC 9106 §4).
 */
// Parameters in any order (the reference writes m,t,p; newer libraries m,p,t).
const ARGON2 = /^\$argon2(?:id|i)\$(?:v=\d+\$)?([a-z]+=\d{1,10}(?:,[a-z]+=\d{1,10})*)\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}$/;

/**
 * Bounds on what one sign-in may cost (checked at import): memory in KiB, passes, lanes.
 * A pool's import must not be able to make a sign-in allocate gigabytes on a shared server.
 */
export const ARGON2_LIMITS = { m: 256 * 1024, t: 16, p: 8 };

export function parseArgon2(hash: string): string | undefined {
  const params = ARGON2.exec(hash)?.[1];
  if (!params) return undefined;
  const values = new Map(params.split(',').map((pair) => [pair.split('=')[0]!, Number(pair.split('=')[1])]));
  const within = (['m', 't', 'p'] as const).every((name) => values.has(name) && values.get(name)! >= 1 && values.get(name)! <= ARGON2_LIMITS[name]);
  return within ? hash : undefined;
}

export function isArgon2(stored: string): boolean {
  return stored.startsWith('$argon2');
}
