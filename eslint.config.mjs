import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.test-output/**', '*.vsix', 'test/fixtures/tfjs-examples/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The core is shared by the host, the CLI, the trainer, the webviews and plain-Node tests.
    files: ['src/core/**', 'src/cli/**', 'src/trainer/**', 'test/unit/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The core must not depend on VS Code.' }] }],
    },
  },
  {
    files: ['src/webviews/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Webviews talk to the host through messages only.' }],
          patterns: [{ group: ['node:*', '../../extension/*'], message: 'Webviews run in a browser.' }],
        },
      ],
    },
  },
  {
    // Build and harness scripts run in Node; the driver also hands functions to the browser.
    files: ['esbuild.mjs', 'test/host/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/host/runner/**'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
