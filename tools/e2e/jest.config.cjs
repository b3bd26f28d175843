// End-to-end tests: the real daemon or every service as its own process, agents and CLI as
// child processes. Run with `npx nx run e2e:e2e`; the multi-process suites need AMQP_URL (and
// DATABASE_URL), see docs/runners.md "End-to-end tests".
const { projectConfig } = require('../../jest.preset.js');

module.exports = projectConfig(__dirname, {
  displayName: 'e2e',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // The build in beforeAll and the daemon restarts are slow on a loaded machine; every wait
  // inside the tests has its own, shorter deadline.
  testTimeout: 600_000,
});
