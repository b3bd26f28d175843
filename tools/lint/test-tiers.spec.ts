import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * The RabbitMQ and terminal suites run only through their project's `test-amqp` and
 * `test-terminal` targets (jest.preset.js leaves them out of `test`). A suite in a project
 * without that target would never run in CI, silently: this spec refuses such a layout.
 */
const ROOT = join(__dirname, '..', '..');
const TIERS = { '.amqp.int-spec.ts': 'test-amqp', '.terminal.int-spec.ts': 'test-terminal' };
const SKIPPED = new Set(['node_modules', 'dist', 'coverage', 'tmp', '.git', '.nx']);

function suites(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) suites(path, found);
    else if (Object.keys(TIERS).some((suffix) => entry.name.endsWith(suffix))) found.push(path);
  }
  return found;
}

function owningProject(file: string): string {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'project.json'))) {
    if (dir === ROOT) throw new Error(`${relative(ROOT, file)} belongs to no Nx project`);
    dir = dirname(dir);
  }
  return join(dir, 'project.json');
}

describe('test tiers', () => {
  const files = [...suites(join(ROOT, 'apps')), ...suites(join(ROOT, 'libs'))];

  it('finds the tiered suites (the scan itself works)', () => {
    expect(files.some((f) => f.endsWith('outbox-relay.amqp.int-spec.ts'))).toBe(true);
  });

  it("runs every RabbitMQ and terminal suite through its project's tier target", () => {
    const orphans = files.flatMap((file) => {
      const [, target] = Object.entries(TIERS).find(([suffix]) => file.endsWith(suffix))!;
      const project = owningProject(file);
      const { targets } = JSON.parse(readFileSync(project, 'utf8')) as {
        targets?: Record<string, unknown>;
      };
      return targets?.[target] === undefined
        ? [`${relative(ROOT, file)}: ${relative(ROOT, project)} has no "${target}" target`]
        : [];
    });
    expect(orphans).toEqual([]);
  });
});
