// Shared Jest configuration. Every project's jest.config.cjs calls projectConfig().
//
// Tiers (STRATAVORE_TEST_TIER):
//   default - unit tests (*.spec.ts) and PostgreSQL integration tests (*.int-spec.ts);
//             PostgreSQL comes from DATABASE_URL or an embedded server started once per run.
//   amqp    - the RabbitMQ suites (*.amqp.int-spec.ts); need AMQP_URL (or a Docker engine).
const path = require('node:path');
const tsconfig = require('./tsconfig.base.json');

const workspaceRoot = __dirname;

function moduleNameMapper() {
  const mapper = {};
  for (const [alias, [target]] of Object.entries(tsconfig.compilerOptions.paths)) {
    mapper[`^${alias.replace(/[/\-.]/g, '\\$&')}$`] = path.join(workspaceRoot, target);
  }
  return mapper;
}

const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

function projectConfig(projectDir, overrides = {}) {
  const amqp = process.env.STRATAVORE_TEST_TIER === 'amqp';
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    transform: { '^.+\\.(t|j)s$': swcTransform },
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper: moduleNameMapper(),
    testMatch: amqp
      ? ['<rootDir>/src/**/*.amqp.int-spec.ts']
      : ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
    testPathIgnorePatterns: amqp
      ? ['/node_modules/']
      : ['/node_modules/', '\\.amqp\\.int-spec\\.ts$'],
    globalSetup: path.join(workspaceRoot, 'tools/jest/global-setup.ts'),
    globalTeardown: path.join(workspaceRoot, 'tools/jest/global-teardown.ts'),
    setupFiles: [path.join(workspaceRoot, 'tools/jest/setup-env.cjs')],
    reporters: ['default', path.join(workspaceRoot, 'tools/jest/tally-reporter.cjs')],
    passWithNoTests: true,
    testTimeout: 30_000,
    ...overrides,
  };
}

module.exports = { projectConfig, workspaceRoot };
