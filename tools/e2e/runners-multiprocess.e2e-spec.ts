// The runners scenario of runners.e2e-spec.ts, against every service as its own process, as
// deployed: api-gateway, runner-manager, heartbeat-ingest, outbox-relay, budget-service,
// notifier and session-store from dist, on the real PostgreSQL and RabbitMQ of
// DATABASE_URL and AMQP_URL, in a database and vhost of their own. The CLI talks to the gateway;
// agents report to heartbeat-ingest; every state change crosses the outbox, the relay and the
// broker. "Restart" stops runner-manager, heartbeat-ingest and the gateway together and starts
// them again on the same ports.
import { buildApps, Sandbox } from './support/e2e-harness';
import { describeRunnerScenario, printTimings, timed } from './support/runner-scenario';
import { FLEET_BUILD, requireFleetServers, ServiceFleet } from './support/service-fleet';

// Fails the file at once, saying how to run it, rather than skipping it.
requireFleetServers();

const BUILD_TIMEOUT_MS = 900_000;
const LIVENESS = { heartbeatIntervalMs: 1_000, staleCheckIntervalMs: 500, staleAfterIntervals: 3 };
/** After a restart: 30 s = the agent's retry backoff cap (see runners.e2e-spec.ts). */
const RESTART_STALE_GRACE = '30s';
const RESTARTED = ['runner-manager', 'heartbeat-ingest', 'api-gateway'];
const CLEAN_EXIT = { code: 0, signal: null };

beforeAll(async () => {
  const started = Date.now();
  await buildApps(BUILD_TIMEOUT_MS, FLEET_BUILD);
  timed('multi-process: build (nx, cached when unchanged)', started);
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(() => {
  printTimings();
});

describe('runners through the CLI against every service as its own process', () => {
  const sandbox = new Sandbox();
  let fleet: ServiceFleet | undefined;
  const running = () => {
    if (!fleet) throw new Error('the fleet did not start');
    return fleet;
  };

  describeRunnerScenario({
    label: 'multi-process',
    sandbox,
    liveness: LIVENESS,
    start: async () => {
      fleet = new ServiceFleet(sandbox, {
        serviceEnv: {
          'runner-manager': { HEARTBEAT_INTERVAL: `${LIVENESS.heartbeatIntervalMs}ms` },
          'heartbeat-ingest': {
            STALE_AFTER_INTERVALS: String(LIVENESS.staleAfterIntervals),
            STALE_CHECK_INTERVAL: `${LIVENESS.staleCheckIntervalMs}ms`,
            STALE_GRACE: '2s',
          },
          // The CLI polls; the default 600 requests a minute would not last the suite.
          'api-gateway': { API_RATE_LIMIT: '100000' },
        },
      });
      await fleet.start();
    },
    stopForRestart: async () => {
      const exits = await running().stop(RESTARTED);
      expect(exits).toEqual(Object.fromEntries(RESTARTED.map((name) => [name, CLEAN_EXIT])));
    },
    startAfterRestart: () => running().startAgain(RESTARTED, { STALE_GRACE: RESTART_STALE_GRACE }),
    stop: async () => {
      const fleetNow = running();
      const names = fleetNow.names();
      expect(await fleetNow.stopAll()).toEqual(
        Object.fromEntries(names.map((name) => [name, CLEAN_EXIT])),
      );
    },
    explain: (error) =>
      fleet ? fleet.explain(error) : error instanceof Error ? error : new Error(String(error)),
    cleanup: async () => {
      await fleet?.cleanup();
      await sandbox.cleanup();
    },
  });
});
