// Fault matrix, first part (issue 6): AWS-side faults during a real renewal on the
// local cloud and Pebble. One cloud for the file; each scenario forces a renewal
// of the certificates it needs and then checks the invariants every fault must keep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';
import { byName, expectEachFaultFired, expectInvariants as sharedInvariants, secretVersions, recordingRunner } from './support.js';

describe('fault matrix: AWS faults during renewal', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  const arns: string[] = [];

  const run = recordingRunner(() => pipeline, arns);

  const expectInvariants = () => sharedInvariants(cloud, pipeline, arns);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web' || c.name === 'cdn');
        doc.pipeline.propagation.maxAttempts = 10;
        doc.pipeline.propagation.waitSeconds = 1;
      }),
    );
    const first = await run({});
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
  }, 300_000);

  afterAll(async () => {
    await cloud?.clearFaults().catch(() => {});
    await cloud?.close();
  });

  it('Secrets Manager PutSecretValue throttled twice: retried, issued, exactly one new current version', async () => {
    const before = await currentSecret(cloud, 'certpipe/web');
    const beforeIds = new Set((await secretVersions(cloud, 'certpipe/web')).map((v) => v.VersionId));
    await cloud.setFault({ service: 'secretsmanager', operation: 'PutSecretValue', error: 'ThrottlingException', count: 2 });

    const done = await run({ only: ['web'], force: true });
    expectEachFaultFired(await cloud.clearFaults());
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect(byName(done, 'web')?.outcome).toBe('renewed');

    const after = await currentSecret(cloud, 'certpipe/web');
    expect(after.serial).not.toBe(before.serial);
    const all = await secretVersions(cloud, 'certpipe/web');
    const current = all.filter((v) => v.VersionStages?.includes('AWSCURRENT'));
    expect(current).toHaveLength(1);
    expect(beforeIds.has(current[0]!.VersionId)).toBe(false);
    // The old certificate stays one step back, so nothing was promoted twice.
    expect((await currentSecret(cloud, 'certpipe/web', undefined, 'AWSPREVIOUS')).serial).toBe(before.serial);
    await expectInvariants();
  });

  it('Route 53 PriorRequestNotComplete / Throttling on ChangeResourceRecordSets: retried, issued', async () => {
    const before = await currentSecret(cloud, 'certpipe/web');
    await cloud.setFault([
      { service: 'route53', operation: 'ChangeResourceRecordSets', error: 'PriorRequestNotComplete', count: 3 },
    ]);
    const done = await run({ only: ['web'], force: true });
    expectEachFaultFired(await cloud.clearFaults());
    await cloud.setFault({ service: 'route53', operation: 'ChangeResourceRecordSets', error: 'Throttling', count: 3 });
    const again = await run({ only: ['web'], force: true });
    expectEachFaultFired(await cloud.clearFaults());

    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect(again.status, `${again.error}: ${again.cause}`).toBe('SUCCEEDED');
    const after = await currentSecret(cloud, 'certpipe/web');
    expect(after.serial).not.toBe(before.serial);
    await expectInvariants();
  });

  it('DNS never shows the record: DnsPropagationTimeout for that certificate, records cleaned, the other issued', async () => {
    const web = await currentSecret(cloud, 'certpipe/web');
    const cdn = await currentSecret(cloud, 'certpipe/cdn');
    await cloud.setSettings({ dnsHiddenNames: ['_acme-challenge.cdn.example.test'] });
    const done = await run({ force: true });
    await cloud.setSettings({ dnsHiddenNames: [] });

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('CertificatesFailed');
    expect(byName(done, 'cdn')).toMatchObject({ outcome: 'failed', error: 'DnsPropagationTimeout' });
    expect(byName(done, 'web')?.outcome).toBe('renewed');
    expect((await currentSecret(cloud, 'certpipe/web')).serial).not.toBe(web.serial);
    // The failed certificate keeps its previous, still valid version.
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).toBe(cdn.serial);
    await expectInvariants();
  });

  it('DNS lags several wait cycles, then shows the record: issued within the configured attempts', async () => {
    const before = await currentSecret(cloud, 'certpipe/web');
    await cloud.setSettings({ dnsLagMs: 3000 });
    const done = await run({ only: ['web'], force: true });
    await cloud.setSettings({ dnsLagMs: 0 });

    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect((await currentSecret(cloud, 'certpipe/web')).serial).not.toBe(before.serial);
    // The lag was seen: more than one look before the record showed.
    const checks = done.history.filter((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'CheckPropagation');
    expect(checks.length).toBeGreaterThan(1);
    expect(checks.length).toBeLessThanOrEqual(10);
    await expectInvariants();
  });
});
