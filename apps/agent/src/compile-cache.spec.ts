import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compileCacheDir } from './compile-cache';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

interface RunReport {
  readonly file: string | null;
  readonly hits: number;
  readonly misses: number;
  readonly answer: unknown;
}

/**
 * Loads `entry` in a fresh Node process with the cache of `dir` enabled first (the cache
 * patches the module loader of its process, so never inside Jest's), then saves the cache.
 */
function runWithCache(dir: string, entry: string): RunReport {
  const script = [
    `const { enableCompileCache } = require(${JSON.stringify(join(__dirname, 'compile-cache.ts'))});`,
    `const cache = enableCompileCache(${JSON.stringify(dir)});`,
    `const loaded = require(${JSON.stringify(entry)});`,
    'loaded.later().then((later) => {',
    '  const counts = { hits: cache.hits(), misses: cache.misses() };',
    '  cache.save();',
    '  const answer = { ...loaded, later };',
    '  process.stdout.write(JSON.stringify({ file: cache.file, ...counts, answer }));',
    '});',
  ].join('\n');
  const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'tsconfig.base.json') },
    encoding: 'utf8',
  });
  return JSON.parse(output) as RunReport;
}

describe('the agent compile cache', () => {
  let root: string;
  let modules: string;
  let entry: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-compile-cache-'));
    modules = join(root, 'modules');
    entry = join(modules, 'entry.js');
    mkdirSync(modules);
    writeFileSync(
      entry,
      [
        "const helper = require('./helper.js');",
        'module.exports = {',
        '  sum: helper.add(2, 3),',
        "  resolved: require.resolve('./helper.js') === __dirname + '/helper.js',",
        '  cached: require.cache[__filename] === module,',
        '  mainAsNode: require.main === process.mainModule,',
        "  later: () => require('./dynamic.js').later(),",
        '};',
      ].join('\n'),
    );
    writeFileSync(join(modules, 'helper.js'), 'exports.add = (a, b) => a + b;\n');
    // Compiled without the cache: restored code cannot resolve `import()` on Node 20.
    writeFileSync(
      join(modules, 'dynamic.js'),
      "exports.later = () => import('./helper.js').then((helper) => helper.add(1, 1));\n",
    );
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('compiles from source once, then runs every module from the cache', () => {
    const dir = join(root, 'cache');
    const first = runWithCache(dir, entry);
    expect(first.answer).toEqual({
      sum: 5,
      resolved: true,
      cached: true,
      mainAsNode: true,
      later: 2,
    });
    expect(first).toMatchObject({ hits: 0, misses: 2 });
    expect(first.file).not.toBeNull();
    expect(existsSync(first.file!)).toBe(true);

    const second = runWithCache(dir, entry);
    expect(second.answer).toEqual(first.answer);
    expect(second).toMatchObject({ hits: 2, misses: 0 });
  });

  it('compiles a changed module again and keeps the cache of the others', () => {
    const dir = join(root, 'cache');
    runWithCache(dir, entry);
    writeFileSync(join(modules, 'helper.js'), 'exports.add = (a, b) => a * b;\n');
    const changed = runWithCache(dir, entry);
    expect(changed.answer).toMatchObject({ sum: 6 });
    expect(changed).toMatchObject({ hits: 1, misses: 1 });
    const again = runWithCache(dir, entry);
    expect(again.answer).toMatchObject({ sum: 6 });
    expect(again).toMatchObject({ hits: 2, misses: 0 });
  });

  it('refuses a directory other users may write to', () => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const report = runWithCache(dir, entry);
    expect(report.file).toBeNull();
    expect(report.answer).toMatchObject({ sum: 5 });
    expect(existsSync(join(dir, `v8-${process.version}-${process.arch}.bin`))).toBe(false);
  });

  it('takes its directory from the environment, or the user cache directory, or none', () => {
    expect(compileCacheDir({ STRATAVORE_AGENT_COMPILE_CACHE: '/var/cache/agent' })).toBe(
      '/var/cache/agent',
    );
    expect(compileCacheDir({ STRATAVORE_AGENT_COMPILE_CACHE: 'off', HOME: '/home/u' })).toBeNull();
    expect(compileCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/home/u' })).toBe(
      '/c/stratavore/agent-compile-cache',
    );
    expect(compileCacheDir({ HOME: '/home/u' })).toBe(
      '/home/u/.cache/stratavore/agent-compile-cache',
    );
    expect(compileCacheDir({})).toBeNull();
  });
});
