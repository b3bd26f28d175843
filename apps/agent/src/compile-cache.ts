/**
 * A V8 code cache for the agent's modules, so an agent does not compile the same ~180 modules
 * (zod, pino, its own) from source at every start (docs/benchmarks.md, "launch"). Node 22.1+
 * has this built in (`module.enableCompileCache`), and it is used there; on Node 20 the same is
 * done here: every CommonJS module compiled after {@link enableCompileCache} goes through a
 * `vm.Script` given the code V8 produced for it last time.
 *
 * One file per Node version and architecture holds the cache of every module, keyed by path and
 * a hash of the source, so a rebuilt module is compiled again and nothing stale runs. The file
 * is written (to a temporary name, then renamed, so concurrent agents never read half a file)
 * once the agent has run for a moment (or when it exits sooner), only when some module was
 * compiled without usable cache data; it then holds the functions compiled so far too, not only
 * the top levels. The directory is private to the user (0700, refused when another user owns it
 * or may write to it): V8 runs the cached code without checking it against the source. A module
 * whose source contains `import(` is compiled from source (see below).
 *
 * Costs nothing when disabled; any failure (read-only disk, a damaged file) leaves the agent
 * compiling from source as before.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** `node:module` internals the cache relies on (stable since Node 12, not in the typings). */
interface ModuleInternals {
  _compile: (this: ModuleInternals, content: string, filename: string) => unknown;
  require(id: string): unknown;
  exports: unknown;
}

interface ModuleStatics {
  wrap(content: string): string;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  _extensions: unknown;
  _cache: unknown;
  enableCompileCache?: (dir: string) => unknown;
}

const statics = Module as unknown as ModuleStatics;
const prototype = Module.prototype as unknown as ModuleInternals;

/** How long the agent runs before the cache is written (its start-up is over by then). */
const WRITE_AFTER_MS = 1_500;
const MAGIC = 0x53_41_43_31; // "SAC1"

export interface CompileCacheState {
  /** The cache file, or null when disabled or unusable. */
  readonly file: string | null;
  /** Modules that had usable cache data / were compiled from source, so far. */
  readonly hits: () => number;
  readonly misses: () => number;
  /** Writes the file now when something was compiled from source (tests; normally a timer). */
  readonly save: () => void;
}

const DISABLED: CompileCacheState = {
  file: null,
  hits: () => 0,
  misses: () => 0,
  save: () => undefined,
};

/**
 * The directory from `STRATAVORE_AGENT_COMPILE_CACHE` (`off` disables), else
 * `$XDG_CACHE_HOME/stratavore/agent-compile-cache` (`~/.cache/...`), else none.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv): string | null {
  const configured = env.STRATAVORE_AGENT_COMPILE_CACHE;
  if (configured === 'off' || configured === '0') return null;
  if (configured) return configured;
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : null);
  return base ? join(base, 'stratavore', 'agent-compile-cache') : null;
}

/** Creates the directory private to this user; false when it exists but is not private. */
function privateDir(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  const uid = process.getuid?.();
  return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0;
}

function readEntries(file: string): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return entries;
  }
  try {
    if (data.length < 8 || data.readUInt32LE(0) !== MAGIC) return entries;
    const count = data.readUInt32LE(4);
    let at = 8;
    for (let i = 0; i < count; i++) {
      const keyLength = data.readUInt32LE(at);
      const key = data.toString('utf8', at + 4, at + 4 + keyLength);
      at += 4 + keyLength;
      const length = data.readUInt32LE(at);
      entries.set(key, data.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
  } catch {
    // A damaged file: what was read so far is still checked by V8 before use.
  }
  return entries;
}

/**
 * Writes this process's modules, and the entries of other files read at start (another entry
 * point of the agent shares the file), without the old versions of the modules it compiled.
 */
function writeEntries(
  file: string,
  previous: ReadonlyMap<string, Buffer>,
  scripts: ReadonlyMap<string, Script>,
): void {
  const compiled = new Set([...scripts.keys()].map((key) => key.slice(0, key.indexOf('\0'))));
  const entries = new Map<string, Buffer | Script>();
  for (const [key, data] of previous) {
    if (!compiled.has(key.slice(0, key.indexOf('\0')))) entries.set(key, data);
  }
  for (const [key, script] of scripts) entries.set(key, script);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(entries.size, 4);
  parts.push(header);
  for (const [key, entry] of entries) {
    const keyBytes = Buffer.from(key, 'utf8');
    const data = Buffer.isBuffer(entry) ? entry : entry.createCachedData();
    const lengths = Buffer.alloc(4);
    lengths.writeUInt32LE(keyBytes.length, 0);
    const dataLength = Buffer.alloc(4);
    dataLength.writeUInt32LE(data.length, 0);
    parts.push(lengths, keyBytes, dataLength, data);
  }
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeFileSync(fd, Buffer.concat(parts));
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

let installed: CompileCacheState | null = null;

/**
 * Compiles every CommonJS module loaded from now on with the cache of `dir` (see the file's
 * comment). Idempotent; returns what it does.
 */
export function enableCompileCache(dir: string | null): CompileCacheState {
  if (installed) return installed;
  if (dir === null) return (installed = DISABLED);
  try {
    if (typeof statics.enableCompileCache === 'function') {
      // Node 22.1+: the built-in cache, in a directory of its own (a different format).
      const builtIn = join(dir, 'node');
      if (!privateDir(dir)) return (installed = DISABLED);
      statics.enableCompileCache(builtIn);
      return (installed = { ...DISABLED, file: builtIn });
    }
    if (!privateDir(dir)) return (installed = DISABLED);
  } catch {
    return (installed = DISABLED);
  }
  const file = join(dir, `v8-${process.version}-${process.arch}.bin`);
  const cached = readEntries(file);
  const scripts = new Map<string, Script>();
  let hits = 0;
  let misses = 0;

  const original = prototype._compile;
  prototype._compile = function compileWithCache(
    this: ModuleInternals,
    content: string,
    filename: string,
  ): unknown {
    // Only plain CommonJS files: anything else (a loader's transform) compiles as before, and so
    // does a module that may use `import()`: code V8 restores from a cache has lost the
    // callback that resolves it on Node 20 ("A dynamic import callback was not specified").
    if ((!filename.endsWith('.js') && !filename.endsWith('.cjs')) || content.includes('import(')) {
      return original.call(this, content, filename);
    }
    const key = `${filename}\0${createHash('sha1').update(content).digest('base64')}`;
    const cachedData = cached.get(key);
    const script = new Script(statics.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected === true) misses++;
    else hits++;
    scripts.set(key, script);
    const wrapper = script.runInThisContext({ displayErrors: true }) as (
      ...args: unknown[]
    ) => unknown;
    return wrapper.call(
      this.exports,
      this.exports,
      requireFor(this),
      this,
      filename,
      dirname(filename),
    );
  };

  const save = () => {
    if (misses === 0) return;
    try {
      writeEntries(file, cached, scripts);
      misses = 0;
    } catch {
      // A read-only or full disk: the next start compiles from source, as without a cache.
    }
  };
  setTimeout(save, WRITE_AFTER_MS).unref();
  // A short run (a command that fails at once) is written when it exits.
  process.once('exit', save);
  installed = { file, hits: () => hits, misses: () => misses, save };
  return installed;
}

/** What Node's own `makeRequireFunction` gives a module (no policy manifests in the agent). */
function requireFor(module: ModuleInternals): NodeJS.Require {
  const require = ((id: string) => module.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) =>
    statics._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => statics._resolveLookupPaths(request, module);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = statics._extensions as NodeJS.RequireExtensions;
  require.cache = statics._cache as NodeJS.Require['cache'];
  return require;
}
