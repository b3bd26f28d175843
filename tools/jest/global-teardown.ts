import { tearDownTestResources } from './test-resources';

/** Jest global teardown: stops the servers the global setup started. */
export default async function globalTeardown(): Promise<void> {
  await tearDownTestResources();
}
