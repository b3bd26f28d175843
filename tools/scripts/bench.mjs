// `npm run bench [name...]`: runs the benchmarks under tools/bench (TypeScript, through
// @swc-node/register with the workspace path aliases) one after another, in separate
// processes. Each prints its figures beside its targets.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const benchDir = join(root, 'tools/bench');
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
// `runners`: the heartbeat, launch and API read benches; `budgets`: the budget check through
// the gateway (docs/benchmarks.md).
const aliases = {
  outbox: ['outbox-relay'],
  runners: ['heartbeat', 'launch', 'api-read'],
  budgets: ['budget-check'],
};
const wanted = process.argv.slice(2).flatMap((name) => aliases[name] ?? [name]);
const selected = wanted.length > 0 ? wanted : available;

let failed = 0;
for (const name of selected) {
  const file = join(benchDir, `${name}.bench.ts`);
  if (!existsSync(file)) {
    console.error(`no benchmark "${name}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n### ${name}`);
  const result = spawnSync(process.execPath, ['-r', '@swc-node/register', file], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tsconfig.base.json'), TZ: 'UTC' },
  });
  if (result.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
