const { projectConfig } = require('../jest.preset.js');

module.exports = projectConfig(__dirname, {
  displayName: 'workspace-tools',
  testMatch: ['<rootDir>/lint/**/*.spec.ts'],
});
