// Runners end to end, as a user drives them: the CLI (`node bin.js ...`) against the real
// single-node daemon (embedded PostgreSQL, in-process bus) started as a child process on a temp
// data dir, with real detached agents. The steps are the shared runner scenario
// (support/runner-scenario.ts), also run against every service as its own process by
// runners-multiprocess.e2e-spec.ts. beforeAll builds the three apps (cached by Nx), so
// `npx nx run e2e:e2e` works on its own.
import {
  buildApps,
  type Daemon,
  eventually,
  isAlive,
  postmasterPid,
  Sandbox,
} from './support/e2e-harness';
import { describeRunnerScenario, need, printTimings, timed } from './support/runner-scenario';

const LIVENESS = { heartbeatIntervalMs: 1_000, staleCheckIntervalMs: 500, staleAfterIntervals: 3 };
const FAST_LIVENESS = {
  HEARTBEAT_INTERVAL: `${LIVENESS.heartbeatIntervalMs}ms`,
  STALE_CHECK_INTERVAL: `${LIVENESS.staleCheckIntervalMs}ms`,
  STALE_AFTER_INTERVALS: String(LIVENESS.staleAfterIntervals),
  STALE_GRACE: '2s',
};
/**
 * After a restart the detector must not judge a runner before its agent's next retry: the agent
 * backs off (full jitter, base = interval, cap 30 s) while the daemon is down, so a 2 s grace
 * would fail a healthy runner whose retry is still sleeping. 30 s = the agent's backoff cap.
 */
const RESTART_LIVENESS = { ...FAST_LIVENESS, STALE_GRACE: '30s' };
const CLEAN_EXIT = { code: 0, signal: null };

/** Generous on a loaded 2-core machine; every wait still has one. */
const BUILD_TIMEOUT_MS = 900_000;

beforeAll(async () => {
  const started = Date.now();
  await buildApps(BUILD_TIMEOUT_MS);
  timed('build (nx, cached when unchanged)', started);
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(() => {
  printTimings();
});

describe('runners through the CLI against the single-node daemon', () => {
  const sandbox = new Sandbox();
  let daemon: Daemon | undefined;

  /** SIGTERM, a clean exit, and the embedded PostgreSQL gone with it. */
  const stopDaemon = async () => {
    const current = need(daemon, 'the daemon');
    const postgres = need(postmasterPid(sandbox.dataDir), 'the embedded PostgreSQL pid');
    expect(await current.stop()).toEqual(CLEAN_EXIT);
    await eventually('embedded PostgreSQL stops', () => !isAlive(postgres), {
      timeoutMs: 20_000,
    });
  };

  describeRunnerScenario({
    label: 'single-node daemon',
    sandbox,
    liveness: LIVENESS,
    start: async () => {
      daemon = await sandbox.startDaemon(FAST_LIVENESS);
    },
    stopForRestart: stopDaemon,
    // Same port: the agents keep the heartbeat URL they were launched with.
    startAfterRestart: async () => {
      const port = need(daemon, 'the daemon').port;
      daemon = await sandbox.startDaemon({ ...RESTART_LIVENESS, HTTP_PORT: String(port) });
    },
    stop: stopDaemon,
    explain: (error) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (daemon) failure.message += `\n\ndaemon log (last lines):\n${daemon.tail(40)}`;
      return failure;
    },
    cleanup: () => sandbox.cleanup(),
  });
});
