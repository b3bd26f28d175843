// End-to-end tests: the real daemon, agents and CLI as child processes.
// Run with `npx nx run e2e:e2e`.
const { projectConfig } = require('../../jest.preset.js');

module.exports = projectConfig(__dirname, {
  displayName: 'e2e',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // The build in beforeAll and the daemon restarts are slow on a loaded machine; every wait
  // inside the tests has its own, shorter deadline.
  testTimeout: 600_000,
});
