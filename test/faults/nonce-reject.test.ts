// Fault matrix, first part (issue 6): Pebble rejects 30 % of nonces (badNonce);
// the ACME client retries them and every certificate is still issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyIssued } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, deployTestPipeline, exampleConfig, placesWithPrivateKeys, type TestPipeline } from '../e2e/pipeline.js';

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
    const root = await cloud.pebbleRootPem();
    for (const spec of pipeline.deployment.inventory.certificates) {
      const stored = await currentSecret(cloud, spec.secretName);
      verifyIssued({
        certificatePem: stored.certificate,
        chainPem: stored.chain,
        privateKeyPem: stored.privateKey,
        dnsNames: spec.dnsNames,
        now: new Date(),
        trustedRoots: [root],
        certificateName: spec.name,
      });
    }
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, [done.executionArn])).toEqual([]);
  });
});
