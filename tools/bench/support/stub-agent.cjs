// A stand-in for stratavore-agent for benches that need many runners but do not measure the
// agent (api-read): started by the daemon's real local launcher exactly like the agent
// (`node <this> --interval <ms> -- <command...>`, STRATAVORE_* in the environment), it sends
// the agent's first heartbeat and its final exit report over HTTP, without running the command,
// and exits. Plain Node, no dependencies: a real agent costs about a second of CPU to start,
// which would make seeding hundreds of runners the slowest part of the bench.
'use strict';
const http = require('node:http');

const runnerId = process.env.STRATAVORE_RUNNER_ID;
const token = process.env.STRATAVORE_RUNNER_TOKEN;
const base = new URL(process.env.STRATAVORE_HEARTBEAT_URL);

function post(body) {
  return new Promise((resolve) => {
    const text = JSON.stringify(body);
    const req = http.request(
      {
        hostname: base.hostname,
        port: base.port,
        path: '/api/v1/heartbeat',
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', () => resolve(0));
    req.end(text);
  });
}

function report(seq, status, exit) {
  return {
    runnerId,
    seq,
    sentAt: new Date().toISOString(),
    status,
    pid: process.pid,
    cpuPercent: 0,
    memoryBytes: 0,
    agentVersion: 'bench-stub',
    sessionId: null,
    counters: { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 },
    ...(exit ? { exit } : {}),
  };
}

/** Until accepted: a 401 only means heartbeat-ingest has not registered the runner yet. */
async function deliver(make) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const status = await post(make());
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.exitCode = 1;
}

(async () => {
  await deliver(() => report(1, 'running'));
  await deliver(() => report(2, 'exited', { code: 0, signal: null }));
})();
