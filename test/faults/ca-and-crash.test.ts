// Fault matrix: the CA unreachable for a whole run, and a run that dies after the
// order is finalized but before the certificate is published.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertpipeConfig } from '../../infra/config.js';
import { startTestCloud, freePort, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';
import { byName, expectEachFaultFired, expectInvariants, secretVersions, recordingRunner } from './support.js';

describe('fault matrix: CA outage and a crash before publishing', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let config: CertpipeConfig;
  const arns: string[] = [];

  const run = recordingRunner(() => pipeline, arns);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    config = exampleConfig(cloud, (doc) => {
      doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web');
    });
    pipeline = await deployTestPipeline(cloud, config);
    const first = await run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('the CA unreachable for the whole run: a typed error, the stored certificate untouched, no record left', async () => {
    const before = await currentSecret(cloud, 'certpipe/web');
    const closedPort = await freePort();
    const unreachable = structuredClone(config) as any;
    unreachable.issuers[0].directoryUrl = `https://127.0.0.1:${closedPort}/dir`;
    await deployTestPipeline(cloud, unreachable);

    const done = await run({ force: true });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('CertificatesFailed');
    expect(byName(done, 'web')).toMatchObject({ outcome: 'failed', error: 'AcmeUnavailable' });
    expect((await currentSecret(cloud, 'certpipe/web')).serial).toBe(before.serial);
    expect(await challengeRecordsLeft(cloud)).toEqual([]);

    pipeline = await deployTestPipeline(cloud, config);
    await expectInvariants(cloud, pipeline, arns);
  }, 300_000);

  it('a run that dies after finalizing: the next run publishes the stored certificate, no second order', async () => {
    const before = await currentSecret(cloud, 'certpipe/web');
    // Promotion is refused (not retryable) until the fault is cleared, so the run stops with the new certificate stored as AWSPENDING.
    // Only the promotion (AWSCURRENT moving): FinalizeOrder's own label moves go through.
    await cloud.setFault({
      service: 'secretsmanager',
      operation: 'UpdateSecretVersionStage',
      match: { VersionStage: 'AWSCURRENT' },
      error: 'AccessDeniedException',
      status: 400,
    });
    const crashed = await run({ force: true });
    expectEachFaultFired(await cloud.clearFaults());
    expect(crashed.status).toBe('FAILED');
    expect(byName(crashed, 'web')).toMatchObject({ outcome: 'failed', error: 'AccessDeniedException' });
    expect((await currentSecret(cloud, 'certpipe/web')).serial).toBe(before.serial);
    const pending = await currentSecret(cloud, 'certpipe/web', undefined, 'AWSPENDING');
    expect(pending.serial).toBeDefined();
    expect(pending.serial).not.toBe(before.serial);

    const resumed = await run();
    expect(resumed.status, `${resumed.error}: ${resumed.cause}`).toBe('SUCCEEDED');
    expect(byName(resumed, 'web')).toMatchObject({ outcome: 'renewed', reason: 'PendingOrder' });
    // Only publishing was left: no PlaceChallenges work, no new ACME order.
    const entered = resumed.history.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
    expect(entered).not.toContain('FinalizeOrder');
    const after = await currentSecret(cloud, 'certpipe/web');
    expect(after.serial).toBe(pending.serial);
    expect(after.orderUrl).toBe(pending.orderUrl);
    expect(after.privateKey === pending.privateKey).toBe(true);
    expect((await currentSecret(cloud, 'certpipe/web', undefined, 'AWSPREVIOUS')).serial).toBe(before.serial);
    expect((await secretVersions(cloud, 'certpipe/web')).filter((v) => v.VersionStages?.includes('AWSPENDING'))).toEqual([]);
    await expectInvariants(cloud, pipeline, arns);
  }, 300_000);
});
