// Renewal for real: Pebble issues short-lived certificates, so the renewal window
// opens within the test and the next run renews, keeping the old version as previous.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, deployTestPipeline, exampleConfig, placesWithPrivateKeys, type TestPipeline } from './pipeline.js';

const LIFETIME_SECONDS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('renewal of a short-lived certificate', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  const arns: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, pebbleValiditySeconds: LIFETIME_SECONDS, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web');
      }),
    );
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('issues, skips while the certificate is young, then renews it once the window opens', async () => {
    const first = await pipeline.run();
    arns.push(first.executionArn);
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    const issued = await currentSecret(cloud, 'certpipe/web');

    const early = await pipeline.run();
    arns.push(early.executionArn);
    const check = early.output as { dueCount: number; skipped: { reason: string; renewalTime?: string }[] };
    expect(check.dueCount).toBe(0);
    expect(check.skipped[0]!.reason).toBe('UpToDate');

    // Default policy: renew when a third of the lifetime is left.
    const due = new Date(check.skipped[0]!.renewalTime!).getTime();
    expect(due).toBeLessThan(new Date(issued.notAfter).getTime());
    await sleep(Math.max(0, due - Date.now()) + 500);

    const renewal = await pipeline.run();
    arns.push(renewal.executionArn);
    expect(renewal.status, `${renewal.error}: ${renewal.cause}`).toBe('SUCCEEDED');
    const results = (renewal.output as { results: { name: string; outcome: string; reason: string }[] }).results;
    expect(results).toEqual([expect.objectContaining({ name: 'web', outcome: 'renewed', reason: 'InRenewalWindow' })]);

    const current = await currentSecret(cloud, 'certpipe/web');
    const previous = await currentSecret(cloud, 'certpipe/web', undefined, 'AWSPREVIOUS');
    expect(current.serial).not.toBe(issued.serial);
    expect(previous.serial).toBe(issued.serial);
    // privateKeyRotation defaults to "always".
    expect(current.privateKey).not.toBe(issued.privateKey);
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, arns)).toEqual([]);
  }, 300_000);
});
