// ESLint (flat config): typescript-eslint's type-checked recommendations; layout is Prettier's job.
// Every rule turned off or relaxed below says why on its line.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Adapters and drivers (oidc-provider's Adapter, Kysely's Driver, Mailer) must return promises even when there is nothing to await.
      '@typescript-eslint/require-await': 'off',
      // Services are objects of closures returned by factories and never use `this`; the rule cannot tell them from class methods.
      '@typescript-eslint/unbound-method': 'off',
      // Node's http server and Koa take async handlers that catch their own errors; promises in other places still count.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // Parameters named _x are placeholders a signature requires (Koa's next, a destructured field left out).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests and benches read HTTP JSON bodies as `any`, as a client would; tests assert their shape with expect().
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['src/console/**/*.ts'],
    rules: {
      // The console renders the admin API's JSON answers, which the API's own schemas check at
      // run time; it reads them as a client of that API would, like the tests do.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs'], ignores: ['views/assets/**'], languageOptions: { globals: globals.node } },
  { files: ['views/assets/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
  prettier,
);
