// The race-free quota across processes: two runner-manager processes consume the same request
// queue on the real RabbitMQ and share the real PostgreSQL; 50 launches fired at once through the
// gateway's HTTP API at a project with a quota of 5 must admit exactly 5 (the rest are refused
// with 409 QUOTA_EXCEEDED), and the database must hold exactly those 5 active runners. Several
// rounds, the runners killed between them, show it holds every time; the agents' parent
// processes show both runner-managers admitted launches.
import { readFileSync } from 'node:fs';

import {
  buildApps,
  eventually,
  GiveUp,
  isAlive,
  type RunnerView,
  Sandbox,
} from './support/e2e-harness';
import { note, printTimings, summary, timed } from './support/runner-scenario';
import { FLEET_BUILD, requireFleetServers, ServiceFleet } from './support/service-fleet';

// Fails the file at once, saying how to run it, rather than skipping it.
requireFleetServers();

const BUILD_TIMEOUT_MS = 900_000;
const ROUNDS = 5;
const LAUNCHES = 50;
const QUOTA = 5;
const PROJECT = 'burst';
const MANAGERS = ['runner-manager-1', 'runner-manager-2'];
const ACTIVE_STATES = ['pending', 'starting', 'running', 'stopping'];
const ROUND_TIMEOUT_MS = 180_000;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

beforeAll(async () => {
  const started = Date.now();
  await buildApps(BUILD_TIMEOUT_MS, FLEET_BUILD);
  timed('concurrency: build (nx, cached when unchanged)', started);
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(() => {
  printTimings();
});

describe(`${LAUNCHES} simultaneous launches at a project with quota ${QUOTA}, through two runner-manager processes`, () => {
  const sandbox = new Sandbox();
  const fleet = new ServiceFleet(sandbox, {
    runnerManagers: MANAGERS.length,
    // Liveness at its defaults (10 s heartbeats, stale after 30 s): the first heartbeat comes
    // as soon as a child started, and a starved agent on a loaded machine is no quota failure.
    serviceEnv: {
      // 50 launches at once and the polling between rounds, far above the default 600 a minute;
      // and 50 launches queue behind one project lock: on a loaded machine the last ones may
      // take longer than the default 10 s, which would answer 504 while the launch goes on.
      'api-gateway': { API_RATE_LIMIT: '100000', API_REQUEST_TIMEOUT: '60s' },
    },
  });
  const admittedBy = new Map<string, string[]>(MANAGERS.map((name) => [name, []]));

  /** One request to the gateway with the fleet's admin key: status and parsed body. */
  async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const response = await fetch(`${fleet.gatewayUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${fleet.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // kept as text for the failure message
    }
    return { status: response.status, body: parsed };
  }

  async function activeInDatabase(): Promise<string[]> {
    const rows = await fleet.query<{ id: string }>(
      `SELECT r.id FROM runner.runners r JOIN runner.projects p ON p.id = r.project_id
        WHERE p.name = $1 AND r.state = ANY($2) ORDER BY r.id`,
      [PROJECT, ACTIVE_STATES],
    );
    return rows.map((row) => row.id);
  }

  async function runners(): Promise<RunnerView[]> {
    const answer = await api('GET', `/runners?project=${PROJECT}&limit=500`);
    if (answer.status !== 200) throw new Error(`GET /runners: ${JSON.stringify(answer)}`);
    const views = (answer.body as { runners: RunnerView[] }).runners;
    sandbox.track(views);
    return views;
  }

  /**
   * Which runner-manager started the runner: the agent is the child of that runner-manager's
   * spawner process (spawned detached, in a session of its own, but still its child while the
   * spawner lives), and the spawner is the runner-manager's child.
   */
  function launchedBy(agentPid: number): string[] {
    const parentOf = (pid: number): number => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    };
    const spawner = parentOf(agentPid);
    const ancestors = [spawner, parentOf(spawner)];
    return MANAGERS.filter((name) => ancestors.includes(fleet.process(name).pid));
  }

  /**
   * Kills (SIGKILL) the project's active runners at once and waits until the database holds none
   * and their processes are gone.
   */
  async function freeSlots(): Promise<void> {
    const ids = await activeInDatabase();
    const views = (await runners()).filter((r) => ids.includes(r.id));
    const kills = await Promise.all(
      ids.map((id) => api('POST', `/runners/${id}/stop`, { force: true })),
    );
    expect(kills.map((k) => k.status)).toEqual(ids.map(() => 202));
    await eventually(
      'no active runner is left in the database',
      async () => (await activeInDatabase()).length === 0,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const pids = views.flatMap((r) => [r.pid, r.agentPid]).filter((pid) => pid !== null);
    await eventually(
      'the killed runners and their agents are gone',
      () => pids.every((pid) => !isAlive(pid)),
      {
        timeoutMs: 20_000,
      },
    );
  }

  const step = (name: string, body: () => Promise<void> | void, timeoutMs?: number) =>
    it(name, () => fleet.withLogs(body), timeoutMs);

  beforeAll(async () => {
    const started = Date.now();
    await fleet.withLogs(async () => {
      await fleet.start();
      const created = await api('POST', '/projects', {
        name: PROJECT,
        path: sandbox.projectDir,
        maxRunners: QUOTA,
        // Sleeps; the marker lets the cleanup find it. `:` keeps sh from exec'ing sleep.
        command: ['sh', '-c', `sleep 600; : ${sandbox.marker}`],
      });
      if (created.status !== 201) throw new Error(`POST /projects: ${JSON.stringify(created)}`);
    });
    timed('concurrency: fleet with two runner-managers up', started);
  }, 300_000);

  afterAll(async () => {
    await fleet.cleanup();
    await sandbox.cleanup();
  }, 180_000);

  step('both runner-manager processes consume the request queue', async () => {
    await eventually(
      'rpc.runner-manager has one consumer per runner-manager process',
      async () => (await fleet.consumers('rpc.runner-manager')) === MANAGERS.length,
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
  });

  for (let round = 1; round <= ROUNDS; round++) {
    step(
      `round ${round}: exactly ${QUOTA} of ${LAUNCHES} simultaneous launches are admitted`,
      async () => {
        try {
          await playRound(round);
        } catch (error) {
          // Leave no runner behind, so that the next round starts from an empty project.
          await freeSlots().catch(() => undefined);
          throw error;
        }
      },
      ROUND_TIMEOUT_MS,
    );
  }

  async function playRound(round: number): Promise<void> {
    expect(await activeInDatabase()).toEqual([]);

    let started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: LAUNCHES }, () => api('POST', `/projects/${PROJECT}/runners`, {})),
    );
    timed(`concurrency round ${round}: ${LAUNCHES} launches answered`, started);

    const admitted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    const other = answers.filter((a) => a.status !== 201 && a.status !== 409);
    expect(other).toEqual([]);
    expect({ admitted: admitted.length, refused: refused.length }).toEqual({
      admitted: QUOTA,
      refused: LAUNCHES - QUOTA,
    });
    const notQuota = refused.filter((answer) => {
      const { code, message } = answer.body as { code?: string; message?: string };
      return code !== 'QUOTA_EXCEEDED' || !message?.includes(`allows ${QUOTA} concurrent`);
    });
    expect(notQuota).toEqual([]);
    const ids = admitted
      .map((a) => (a.body as { status: string; runner: { id: string } }).runner.id)
      .sort();
    expect(new Set(ids).size).toBe(QUOTA);
    expect(await activeInDatabase()).toEqual(ids);

    // They really run: agent started, child running, heartbeats in.
    started = Date.now();
    const running = await eventually(
      `the ${QUOTA} admitted runners are running with a heartbeat`,
      async () => {
        const views = (await runners()).filter((r) => ids.includes(r.id));
        const ready = views.filter((r) => r.state === 'running' && r.pid && r.lastHeartbeatAt);
        if (ready.length === QUOTA) return ready;
        if (views.some((r) => ['failed', 'stopped', 'completed'].includes(r.state))) {
          throw new GiveUp(`a runner ended: ${summary(views)}`);
        }
        throw new Error(summary(views));
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    timed(`concurrency round ${round}: admitted -> all running`, started);

    const byManager: Record<string, number> = Object.fromEntries(MANAGERS.map((m) => [m, 0]));
    for (const runner of running) {
      const managers = launchedBy(runner.agentPid!);
      expect({ runner: runner.id, launchedBy: managers.length }).toEqual({
        runner: runner.id,
        launchedBy: 1,
      });
      admittedBy.get(managers[0]!)!.push(runner.id);
      byManager[managers[0]!]! += 1;
    }
    note(`concurrency round ${round}: admitted by ${JSON.stringify(byManager)}`);

    // Free the slots for the next round: kill (SIGKILL) all five at once.
    started = Date.now();
    await freeSlots();
    timed(`concurrency round ${round}: kill -> slots free`, started);
  }

  step('both runner-manager processes admitted launches', () => {
    const counts = Object.fromEntries([...admittedBy].map(([name, ids]) => [name, ids.length]));
    for (const name of MANAGERS) {
      expect({ name, admitted: counts[name]! > 0 }).toEqual({ name, admitted: true });
    }
  });

  step('every service stops cleanly', async () => {
    const names = fleet.names();
    expect(await fleet.stopAll()).toEqual(
      Object.fromEntries(names.map((name) => [name, { code: 0, signal: null }])),
    );
  });
});
