// Fault matrix, first part (issue 6): Pebble rejects 30 % of nonces (badNonce);
// the ACME client retries them and every certificate is still issued.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import acme from 'acme-client';
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
    await expectNoncesRejected();
  });

  /**
   * The fault fired: Pebble neither counts nor logs the nonces it rejects, so check
   * that the Pebble the run used was started with the knob, and that it really
   * answers badNonce (20 signed requests from here, at 30 %: all pass with p < 0.1 %).
   */
  async function expectNoncesRejected(): Promise<void> {
    const pebbleLog = readFileSync(join(cloud.dataDir, 'logs', 'pebble.log'), 'utf8');
    expect(pebbleLog).toContain('Configured to reject 30% of good nonces');
    const retries: string[] = [];
    acme.setLogger((message) => {
      if (message.startsWith('Caught invalid nonce error')) retries.push(message);
    });
    try {
      acme.axios.defaults.httpsAgent = new https.Agent({ ca: cloud.pebbleCaPem });
      // A new account each time: an existing one makes acme-client send an update Pebble refuses.
      for (let i = 0; i < 20; i++) {
        const accountKey = await acme.crypto.createPrivateEcdsaKey();
        await new acme.Client({ directoryUrl: cloud.directoryUrl!, accountKey }).createAccount({ termsOfServiceAgreed: true });
      }
    } finally {
      acme.setLogger(() => {});
      acme.axios.defaults.httpsAgent = undefined;
    }
    expect(retries.length).toBeGreaterThan(0);
  }
});
