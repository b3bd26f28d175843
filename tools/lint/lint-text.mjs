// Lints source texts as if they lived at the given paths, through the workspace's
// eslint.config.mjs, with type-aware rules off (the files are virtual).
// stdin: [{ "file": "libs/.../x.ts", "code": "..." }]; stdout: [["ruleId", ...], ...]
// Runs as its own process because ESLint loads its config with import(), which Jest's VM
// cannot do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const workspaceRoot = join(import.meta.dirname, '..', '..');
const inputs = JSON.parse(readFileSync(0, 'utf8'));
const eslint = new ESLint({
  cwd: workspaceRoot,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      ...tseslint.configs.disableTypeChecked,
      languageOptions: { parserOptions: { projectService: false, project: null } },
    },
  ],
});
const out = [];
for (const { file, code } of inputs) {
  const [result] = await eslint.lintText(code, { filePath: join(workspaceRoot, file) });
  out.push((result?.messages ?? []).map((m) => m.ruleId ?? `parse: ${m.message}`));
}
process.stdout.write(JSON.stringify(out));
