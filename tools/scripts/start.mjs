// `npm start`: build the single-node daemon (Nx caches the build) and run it in the foreground.
// Ctrl-C reaches both processes; this wrapper leaves the shutdown to the daemon and exits
// with its code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'dist/apps/stratavored/apps/stratavored/src/main.js');

const build = spawnSync(
  process.execPath,
  [
    realpathSync(join(root, 'node_modules/.bin/nx')),
    'build',
    'stratavored',
    '--output-style=static',
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NX_TUI: 'false' } },
);
if (build.status !== 0 || !existsSync(main)) {
  console.error('Building stratavored failed; run `npx nx build stratavored` to see why.');
  process.exit(build.status ?? 1);
}

const daemon = spawn(process.execPath, ['--enable-source-maps', main, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    // A terminal's Ctrl-C already reached the daemon (same process group); forward the rest.
    if (signal !== 'SIGINT') daemon.kill(signal);
  });
}
daemon.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
