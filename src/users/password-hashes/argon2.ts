/**
 * argon2id and argon2i in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`),
 * kept as is: the argon2 package reads the parameters from the string, whatever they are.
 * argon2d is refused: it is meant for proof-of-work, not passwords (RFC 9106 §4).
 */
const ARGON2 = /^\$argon2i?d?\$(v=\d+\$)?m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}$/;

export function parseArgon2(hash: string): string | undefined {
  if (!ARGON2.test(hash) || hash.startsWith('$argon2d$')) return undefined;
  return hash;
}

export function isArgon2(stored: string): boolean {
  return stored.startsWith('$argon2');
}
