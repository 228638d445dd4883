import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.test-output/**', '*.vsix'] },
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
    files: ['src/core/**', 'src/cli/**', 'test/unit/**'],
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
    // Build and test scripts print to the terminal.
    files: ['esbuild.mjs', 'test/host/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', setTimeout: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: { 'no-console': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
