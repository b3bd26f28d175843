const { projectConfig } = require('../../jest.preset.js');

// Specs that cross services (the agent and session-store, ...) in one process, on real
// PostgreSQL: only workspace tooling may import several services' libraries.
module.exports = projectConfig(__dirname, { displayName: 'integration' });
