/** What each scope lets an application do, as the consent page's catalogue entries (scope.*). */
const KNOWN = new Set(['openid', 'profile', 'email', 'phone', 'offline_access', 'groups']);

export function describeScopes(scopes: string[], claims: string[]): { key: string; values?: Record<string, string> }[] {
  const lines: { key: string; values?: Record<string, string> }[] = scopes.map((scope) =>
    KNOWN.has(scope) ? { key: `scope.${scope}` } : { key: 'scope.other', values: { scope } },
  );
  if (claims.length) lines.push({ key: 'scope.claims', values: { claims: claims.join(', ') } });
  return lines;
}
