// Lint: every exported symbol of a package's source (and the bench's) carries TSDoc.
// publicOnly alone misses TS interfaces and type aliases, so they are listed as contexts.
import tsParser from '@typescript-eslint/parser';
import jsdoc from 'eslint-plugin-jsdoc';

export default [
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '**/*.generated.ts', '**/build/**', '**/target/**'],
  },
  {
    files: ['packages/*/src/**/*.ts', 'bench/src/**/*.ts'],
    languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
    plugins: { jsdoc },
    rules: {
      'jsdoc/require-jsdoc': ['error', {
        publicOnly: true,
        require: { FunctionDeclaration: true, ClassDeclaration: true, MethodDefinition: true, ArrowFunctionExpression: true },
        contexts: ['TSInterfaceDeclaration', 'TSTypeAliasDeclaration', 'TSEnumDeclaration', 'ExportNamedDeclaration > VariableDeclaration'],
        checkConstructors: false,
      }],
      'jsdoc/check-alignment': 'error',
      'jsdoc/no-multi-asterisks': 'error',
    },
  },
  {
    // Core knows backends only through its interface and loads them by name at run time
    // (backend/discover.ts): a static import would tie it to one hypervisor. The same goes for
    // the Linux backends' shared machinery, by package name or by a relative path into it.
    // packages/core/test/neutral-core.test.ts also catches require() and import().
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['@hyperlight-ts/backend-*', '@hyperlight-ts/native-linux', '@hyperlight-ts/native-linux/**', '**/backend-*/**', '**/native-linux/**'],
          message: 'core must not import a backend or backend machinery; backends are loaded by name in backend/discover.ts',
        }],
      }],
    },
  },
];
