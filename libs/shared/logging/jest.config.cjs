const { projectConfig } = require('../../../jest.preset.js');

module.exports = projectConfig(__dirname, { displayName: 'logging' });
