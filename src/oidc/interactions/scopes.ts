/** What each scope lets an application do, in the words the consent page shows. */
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in with your account',
  profile: 'See your profile: name, nickname, picture, locale',
  email: 'See your email address',
  phone: 'See your phone number',
  offline_access: 'Keep access while you are away',
  groups: 'See the groups you belong to',
};

export function describeScopes(scopes: string[], claims: string[]): string[] {
  const lines = scopes.map((scope) => DESCRIPTIONS[scope] ?? `Use the "${scope}" permission`);
  if (claims.length) lines.push(`See these details: ${claims.join(', ')}`);
  return lines;
}
