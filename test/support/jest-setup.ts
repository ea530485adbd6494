/**
 * oidc-provider prints a warning on Node 20 at import (it prefers Node 22 LTS; docs/design.md#runtime).
 * It repeats in every test file and says nothing about the test: drop that one line, keep all others.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime')) return;
  warn(...args);
};
