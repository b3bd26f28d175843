import { setUpTestResources } from './test-resources';

/** Jest global setup: see test-resources.ts and the tier notes in jest.preset.js. */
export default async function globalSetup(
  globalConfig: Parameters<typeof setUpTestResources>[0],
  projectConfig: Parameters<typeof setUpTestResources>[1],
): Promise<void> {
  await setUpTestResources(globalConfig, projectConfig);
}
