// Tests run in UTC with reflect-metadata loaded, as the applications do.
process.env.TZ = 'UTC';
require('reflect-metadata');
