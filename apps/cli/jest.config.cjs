const { projectConfig } = require('../../jest.preset.js');

// @oclif/core detects WSL with `await import('wsl-utils')`, an ES module. Jest runs CommonJS
// without --experimental-vm-modules, so that file and the small ESM packages it loads go through
// the same SWC transform as our code (which turns `import()` into `require`).
const esmForOclif = [
  '@oclif/core/lib/util/os\\.js',
  'wsl-utils',
  'is-wsl',
  'is-inside-container',
  'is-docker',
  'powershell-utils',
];

module.exports = projectConfig(__dirname, {
  displayName: 'cli',
  transformIgnorePatterns: [`/node_modules/(?!(${esmForOclif.join('|')})(/|$))`],
});
