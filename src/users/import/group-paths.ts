/**
 * Group names and paths of a pool, resolved in memory for one import or export: a pool has
 * few groups next to its users. A path names a nested group from its root ("staff/engineering");
 * a plain name finds the group wherever it sits (names are unique in a pool). Case-insensitive,
 * as group names are.
 */
export interface GroupPaths {
  resolve(nameOrPath: string): string | undefined;
  pathOf(groupId: string): string | undefined;
}

export function createGroupPaths(groups: { id: string; name: string; parent_id: string | null }[]): GroupPaths {
  const byId = new Map(groups.map((group) => [group.id, group]));
  const byName = new Map(groups.map((group) => [group.name.toLowerCase(), group.id]));
  const paths = new Map<string, string>();
  const byPath = new Map<string, string>();
  for (const group of groups) {
    const names: string[] = [];
    const seen = new Set<string>();
    for (
      let current: typeof group | undefined = group;
      current && !seen.has(current.id);
      current = current.parent_id ? byId.get(current.parent_id) : undefined
    ) {
      seen.add(current.id);
      names.unshift(current.name);
    }
    const path = names.join('/');
    paths.set(group.id, path);
    byPath.set(path.toLowerCase(), group.id);
  }
  return {
    resolve(nameOrPath) {
      const key = nameOrPath
        .trim()
        .replace(/^\/+|\/+$/g, '')
        .toLowerCase();
      return byName.get(key) ?? byPath.get(key);
    },
    pathOf: (groupId) => paths.get(groupId),
  };
}
