// Fault matrix, first part (issue 6): Pebble rejects 30 % of nonces (badNonce);
// the ACME client retries them and every certificate is still issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';
import { expectInvariants } from './support.js';

describe('fault matrix: Pebble rejecting 30 % of nonces', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, nonceRejectPercent: 30, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web' || c.name === 'cdn');
        doc.pipeline.propagation.maxAttempts = 10;
      }),
    );
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('issues every certificate', async () => {
    const done = await pipeline.run({});
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    await expectInvariants(cloud, pipeline, [done.executionArn]);
  });
});
