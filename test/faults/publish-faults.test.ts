// Fault matrix, first part (issue 6): publishing faults, concurrent executions and
// an ACM re-import ACM would refuse, on the local cloud and Pebble.
import { ACMClient, GetCertificateCommand } from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../functions/lib/x509.js';
import { startExecution, waitForExecution } from '../../bin/run.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import {
  currentSecret,
  deployTestPipeline,
  exampleConfig,
  storedEvents,
  type TestPipeline,
} from '../e2e/pipeline.js';
import { byName, expectEachFaultFired, expectInvariants as sharedInvariants, itemResults, recordingRunner } from './support.js';

const cdnConfig = (cloud: TestCloud, keyAlgorithm: string) =>
  exampleConfig(cloud, (doc) => {
    doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web' || c.name === 'cdn');
    doc.certificates.find((c: { name: string }) => c.name === 'cdn').keyAlgorithm = keyAlgorithm;
    doc.pipeline.propagation.maxAttempts = 10;
    doc.pipeline.propagation.waitSeconds = 1;
  });

describe('fault matrix: publishing, concurrency and ACM re-import', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  const arns: string[] = [];
  /** ACM ARN of the cdn certificate per region, from the first run. */
  const acmArns = new Map<string, string>();

  const run = recordingRunner(() => pipeline, arns);

  async function acmSerial(region: string): Promise<string> {
    const acm = new ACMClient(cloud.sdkConfig(undefined, region));
    const got = await acm.send(new GetCertificateCommand({ CertificateArn: acmArns.get(region)! }));
    return parseCertificate(got.Certificate!).serial;
  }

  const expectInvariants = () => sharedInvariants(cloud, pipeline, arns);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(cloud, cdnConfig(cloud, 'ecdsa-p256'));
    const first = await run({});
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    for (const target of byName(first, 'cdn')!.published!.targets) {
      const [type, , region, ...arn] = target.split(':');
      if (type === 'acm') acmArns.set(region!, arn.join(':'));
    }
    expect([...acmArns.keys()].sort()).toEqual(['eu-west-1', 'us-east-1']);
  }, 300_000);

  afterAll(async () => {
    await cloud?.clearFaults().catch(() => {});
    await cloud?.close();
  });

  let afterAcmFault: string;

  it('ACM ImportCertificate fails in one region: the other targets published, PublishFailed reported', async () => {
    const before = await currentSecret(cloud, 'certpipe/cdn');
    await cloud.setFault({
      service: 'acm',
      operation: 'ImportCertificate',
      error: 'ValidationException',
      message: 'injected: the certificate could not be imported',
      region: 'eu-west-1',
    });
    const done = await run({ only: ['cdn'], force: true });
    expectEachFaultFired(await cloud.clearFaults());

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('CertificatesFailed');
    const cdn = byName(done, 'cdn')!;
    expect(cdn).toMatchObject({ outcome: 'failed', error: 'PublishFailed' });
    expect(cdn.cause).toContain('eu-west-1');
    const now = await currentSecret(cloud, 'certpipe/cdn');
    afterAcmFault = now.serial;
    expect(now.serial).not.toBe(before.serial);
    expect(await acmSerial('us-east-1')).toBe(now.serial);
    // The failed region keeps the previous certificate, which is still valid.
    expect(await acmSerial('eu-west-1')).toBe(before.serial);
    await expectInvariants();
  });

  // The failed target is recorded (certpipe:publish-pending): CheckExpiry answers
  // PublishIncomplete and the run publishes the stored certificate, no new order.
  it('after the ACM fault clears, a re-run publishes the same certificate without a new order', async () => {
    expect(afterAcmFault).toBeDefined();
    const done = await run({ only: ['cdn'] });
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect(byName(done, 'cdn')).toMatchObject({ outcome: 'renewed', reason: 'PublishIncomplete' });
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).toBe(afterAcmFault);
    expect(await acmSerial('eu-west-1')).toBe(afterAcmFault);
    await expectInvariants();
  });

  it('two executions renew the same certificate at once: one new certificate, one current version', async () => {
    const before = await currentSecret(cloud, 'certpipe/web');
    const eventsBefore = (await storedEvents(cloud, 'Certificate Renewed')).length;
    const started = await Promise.all([
      startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, { only: ['web'], force: true }),
      startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, { only: ['web'], force: true }),
    ]);
    arns.push(...started);
    const done = await Promise.all(started.map((arn) => waitForExecution(pipeline.sfn, arn, { pollMs: 250, timeoutMs: 240_000 })));
    // Both share one ACME order (the second claim resumes the first); whichever answers a
    // challenge or finalizes second finds the work done and carries on.
    expect(done.map((d) => d.status), JSON.stringify(done.map(itemResults))).toEqual(['SUCCEEDED', 'SUCCEEDED']);

    const after = await currentSecret(cloud, 'certpipe/web');
    expect(after.serial).not.toBe(before.serial);
    // Promoted once: the version before is the old certificate, not a twin of the new one.
    expect((await currentSecret(cloud, 'certpipe/web', undefined, 'AWSPREVIOUS')).serial).toBe(before.serial);
    const renewed = (await storedEvents(cloud, 'Certificate Renewed')).slice(eventsBefore).filter((e) => e.detail.certificate === 'web');
    expect(new Set(renewed.map((e) => e.detail.serial))).toEqual(new Set([after.serial]));
    await expectInvariants();
  });

  it('ACM re-import with a key type change: AcmReimportIncompatible for ACM, Secrets Manager gets the RSA certificate', async () => {
    const before = await currentSecret(cloud, 'certpipe/cdn');
    const acmBefore = await acmSerial('us-east-1');
    pipeline = await deployTestPipeline(cloud, cdnConfig(cloud, 'rsa-2048'));
    const done = await run({ only: ['cdn'], force: true });

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('CertificatesFailed');
    const cdn = byName(done, 'cdn')!;
    expect(cdn).toMatchObject({ outcome: 'failed', error: 'PublishFailed' });
    expect(cdn.cause).toContain('AcmReimportIncompatible');
    const now = await currentSecret(cloud, 'certpipe/cdn');
    expect(now.serial).not.toBe(before.serial);
    expect(now.keyAlgorithm).toBe('rsa-2048');
    // ACM was never asked: both regions still hold their earlier ECDSA certificates.
    expect(await acmSerial('us-east-1')).toBe(acmBefore);
    await expectInvariants();
  });
});
