import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
  { ignores: ['.svelte-kit/', 'build/', '.data/', 'node_modules/', 'tests/bench/results/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  prettier,
  ...svelte.configs.prettier,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Pulse is served from the root with no base path: a link is its path, so resolve() adds nothing.
      'svelte/no-navigation-without-resolve': 'off',
      // Stores keep private Maps and Sets as bookkeeping and publish through $state; the reactive
      // collections would make every bookkeeping write a render.
      'svelte/prefer-svelte-reactivity': 'off'
    }
  },
  {
    files: ['**/*.ts', '**/*.js'],
    ignores: ['**/*.svelte.ts', '**/*.svelte.js'],
    // A handler set up before the value it closes over exists (shutdown hooks) needs a let.
    rules: { 'prefer-const': ['error', { ignoreReadBeforeAssign: true }] }
  },
  {
    // Tests read untyped JSON from real servers and sockets.
    files: ['tests/**', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        extraFileExtensions: ['.svelte'],
        parser: ts.parser,
        svelteConfig
      }
    }
  }
);
