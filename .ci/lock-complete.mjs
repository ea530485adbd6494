// Fails when package-lock.json misses a package that some locked package depends on, optional
// platform binaries included (@swc/core-darwin-arm64, esbuild's win32 build ...). `npm ci` on
// that platform would refuse such a lock as out of sync, even though it installs fine here.
import { readFileSync } from 'node:fs';

const { packages } = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));

/** Node's lookup: node_modules/<name> next to the dependent, then in each enclosing node_modules. */
function locate(dependent, name) {
  let dir = dependent;
  for (;;) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

const missing = [];
for (const [path, entry] of Object.entries(packages)) {
  const wanted = { ...entry.dependencies, ...entry.devDependencies, ...entry.optionalDependencies };
  if (path !== '' && entry.devDependencies) for (const name of Object.keys(entry.devDependencies)) delete wanted[name];
  for (const [name, range] of Object.entries(wanted)) {
    if (!locate(path, name)) missing.push(`${path || '(root)'} needs ${name}@${range}`);
  }
}
if (missing.length) {
  console.error(`package-lock.json is missing ${missing.length} package(s):\n${missing.join('\n')}`);
  process.exit(1);
}
const platforms = Object.values(packages).filter((entry) => entry.os).length;
console.log(`package-lock.json lists every dependency (${platforms} platform-specific packages)`);
