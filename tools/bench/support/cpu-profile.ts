/**
 * `BENCH_PROFILE=1`: where a server's CPU time goes during the measured window. Profiles this
 * process through the inspector (the heartbeat bench's server runs here), or reads the
 * `.cpuprofile` a child wrote with `--cpu-prof`, and prints self time by package and by function.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

/** The V8 CPU profile format (`Profiler.stop`, `--cpu-prof`). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export const profilingRequested = process.env.BENCH_PROFILE === '1';

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    session.post(method, params ?? {}, (error, result) =>
      error ? reject(error) : resolve(result as T),
    ),
  );
}

/** Samples this process (every 1 ms) until `stop()`. */
export async function startInProcessProfile(): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 1_000 });
  await post(session, 'Profiler.start');
  return {
    async stop() {
      const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

/**
 * Writes the profile to `BENCH_PROFILE_DIR` (for Chrome DevTools or speedscope) and returns the
 * file, or null when the variable is not set.
 */
export function saveProfile(profile: CpuProfile, name: string): string | null {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/** Where a child writes its `--cpu-prof` profile: BENCH_PROFILE_DIR, else `fallback`. */
export function childProfileDir(fallback: string): string {
  return process.env.BENCH_PROFILE_DIR ?? fallback;
}

/** The newest `.cpuprofile` in `dir` (written by a child started with `--cpu-prof-dir`). */
export function readNewestProfile(dir: string): CpuProfile | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const newest = files[files.length - 1];
  return newest ? (JSON.parse(readFileSync(join(dir, newest), 'utf8')) as CpuProfile) : null;
}

/** Which package or workspace library a function belongs to. */
function owner(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const lib = /\/(libs\/.+?\/src|apps\/[^/]+\/src|dist\/apps\/[^/]+|tools\/[^/]+)\//.exec(url);
  return lib ? lib[1]! : url;
}

/**
 * Self time by owner and by function, as lines to print; only samples between `fromMs` and
 * `toMs` (milliseconds since the profile started) count when given.
 */
export function summarizeProfile(
  profile: CpuProfile,
  options: { top?: number; fromMs?: number; toMs?: number } = {},
): string[] {
  const top = options.top ?? 15;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByOwner = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  let total = 0;
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsed += delta / 1000;
    if (options.fromMs !== undefined && elapsed < options.fromMs) return;
    if (options.toMs !== undefined && elapsed > options.toMs) return;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') return;
    total += delta;
    const who = owner(url, functionName);
    selfByOwner.set(who, (selfByOwner.get(who) ?? 0) + delta);
    const file = url.split('/').slice(-1)[0] ?? '';
    const key = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''} [${who}]`;
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + delta);
  });
  const lines = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
  return [
    `busy CPU samples: ${(total / 1000).toFixed(0)} ms; self time by package:`,
    ...lines(selfByOwner),
    'self time by function:',
    ...lines(selfByFunction),
  ];
}
