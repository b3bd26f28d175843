// Shared Jest configuration. Every project's jest.config.cjs calls projectConfig().
//
// Tiers (STRATAVORE_TEST_TIER):
//   default - unit tests (*.spec.ts) and PostgreSQL integration tests (*.int-spec.ts);
//             PostgreSQL comes from DATABASE_URL or an embedded server started once per run.
//   amqp    - the RabbitMQ suites (*.amqp.int-spec.ts); need AMQP_URL (or a Docker engine).
//   terminal - suites that drive a real terminal (*.terminal.int-spec.ts); need tmux.
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
  const tier = process.env.STRATAVORE_TEST_TIER ?? 'default';
  const tiered = { amqp: '*.amqp.int-spec.ts', terminal: '*.terminal.int-spec.ts' };
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    transform: { '^.+\\.(t|j)s$': swcTransform },
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper: moduleNameMapper(),
    testMatch:
      tier in tiered
        ? [`<rootDir>/src/**/${tiered[tier]}`]
        : ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
    testPathIgnorePatterns:
      tier in tiered
        ? ['/node_modules/']
        : ['/node_modules/', '\\.(amqp|terminal)\\.int-spec\\.ts$'],
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
