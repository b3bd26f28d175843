/** How to give the amqp test tier a broker; shown whenever one is missing. */
export const AMQP_URL_HOW_TO = [
  'The RabbitMQ integration tests need a broker. Either:',
  '  - point them at one: AMQP_URL=amqp://guest:guest@127.0.0.1:5672 npm run test:amqp',
  '    (one project: AMQP_URL=... npx nx run <project>:test-amqp), or',
  '  - start a Docker engine (DOCKER_HOST or /var/run/docker.sock) and the run starts RabbitMQ',
  '    with testcontainers.',
].join('\n');

/** `AMQP_URL` of the amqp test tier; throws with instructions when it is not set. */
export function requireAmqpUrl(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const url = env.AMQP_URL;
  if (!url) throw new Error(`AMQP_URL is not set.\n${AMQP_URL_HOW_TO}`);
  return url;
}
