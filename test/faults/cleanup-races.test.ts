// Fault matrix: cleanup after a failure. PlaceChallenges fails after writing some
// of its TXT values and the CA has meanwhile invalidated the order; one execution
// fails while another still works on the same order. Every value this pipeline
// wrote is removed in the end, and never while a live execution still needs it.
import type acme from 'acme-client';
import { SecretsManagerClient, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AcmeSession } from '../../functions/lib/acme.js';
import { findCertificate, findIssuer } from '../../functions/lib/inventory.js';
import { executionHistory, startExecution, waitForExecution } from '../../bin/run.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';
import { byName, expectInvariants, recordingRunner } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('fault matrix: cleanup races', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  const arns: string[] = [];
  const run = recordingRunner(() => pipeline, arns);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'shop' || c.name === 'cdn');
      }),
    );
    // This process talks ACME to Pebble too, to invalidate an order behind the pipeline's back.
    process.env.CERTPIPE_ACME_CA_BUNDLE = cloud.handle.info.pebbleCaPath;
    const first = await run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  /** Hits of each injected fault rule, in the order they were added. */
  async function faultHits(): Promise<number[]> {
    const res = await fetch(`${cloud.url}/_certpipe/faults`, { headers: { accept: 'application/json', 'content-type': 'application/json' } });
    return ((await res.json()) as { faults: { hits: number }[] }).faults.map((f) => f.hits);
  }

  const cdnRecords = async () => (await challengeRecordsLeft(cloud)).filter((r) => r.startsWith('_acme-challenge.cdn.'));

  afterEach(async () => {
    await cloud.clearFaults();
    await cloud.setSettings({ insyncDelayMs: 200 });
  });

  async function pendingOrderTag(secretName: string): Promise<string | undefined> {
    const sm = new SecretsManagerClient(cloud.sdkConfig());
    const described = await sm.send(new DescribeSecretCommand({ SecretId: secretName }));
    return described.Tags?.find((t) => t.Key === 'certpipe:pending-order')?.Value;
  }

  it('PlaceChallenges fails after writing some values and the CA invalidates the order: its values are still removed', async () => {
    const spec = findCertificate(pipeline.deployment.inventory, 'shop');
    const before = await currentSecret(cloud, spec.secretName);
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
    // shop's four names lie in two zones: one change batch each. One batch is held back, then
    // refused: the other zone's two values are written.
    await cloud.setFault({ service: 'route53', operation: 'ChangeResourceRecordSets', error: 'AccessDenied', status: 403, latencyMs: 8000, count: 1 });
    const arn = await startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, { only: ['shop'], force: true });
    arns.push(arn);

    const written = await until('one zone\'s two values written', async () => {
      const left = await challengeRecordsLeft(cloud);
      return left.length >= 2 ? left : undefined;
    });
    expect(written.length).toBe(2);
    // Meanwhile the CA invalidates the order: asked to validate now, it finds the held-back values missing.
    const orderUrl = await until('the order claimed', () => pendingOrderTag(spec.secretName));
    const session = await AcmeSession.open(findIssuer(pipeline.deployment.inventory, spec.issuer), new SecretsManagerClient(cloud.sdkConfig()));
    const client = (session as unknown as { client: acme.Client }).client;
    const order = await client.getOrder({ url: orderUrl } as acme.Order);
    for (const authz of await client.getAuthorizations(order)) {
      const challenge = authz.challenges.find((c) => c.type === 'dns-01');
      if (authz.status === 'pending' && challenge) await client.completeChallenge(challenge);
    }
    await until('the order invalid', async () => ((await client.getOrder({ url: orderUrl } as acme.Order)).status === 'invalid' ? true : undefined), 15_000);

    const done = await waitForExecution(pipeline.sfn, arn, { pollMs: 250, timeoutMs: 240_000 });
    expect(await faultHits()).toEqual([1]);
    await cloud.clearFaults();

    expect(done.status).toBe('FAILED');
    expect(byName(done, 'shop')).toMatchObject({ outcome: 'failed', error: 'AccessDenied' });
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
    expect((await currentSecret(cloud, spec.secretName)).serial).toBe(before.serial);

    // The dead order is not resumed: the next run orders afresh, and renews.
    const again = await run({ only: ['shop'], force: true });
    expect(again.status, `${again.error}: ${again.cause}`).toBe('SUCCEEDED');
    expect((await currentSecret(cloud, spec.secretName)).serial).not.toBe(before.serial);
    await expectInvariants(cloud, pipeline, arns);
  }, 300_000);

  it("a failed execution's cleanup leaves the values a concurrent execution on the same order still needs", async () => {
    const spec = findCertificate(pipeline.deployment.inventory, 'cdn');
    const before = await currentSecret(cloud, spec.secretName);
    // A's record change stays PENDING for a while: A waits in its propagation loop, needing its values.
    await cloud.setSettings({ insyncDelayMs: 15_000 });
    const a = await startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, { only: ['cdn'], force: true });
    arns.push(a);
    await until('A has written its values', async () => {
      const history = await executionHistory(pipeline.sfn, a);
      return history.some((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'PlaceChallenges') ? true : undefined;
    });
    const valuesOfA = await cdnRecords();
    expect(valuesOfA).toHaveLength(1);

    // B, on the same certificate, fails at its first secret read (a Lambda error); its cleanup runs.
    await cloud.setFault({ service: 'secretsmanager', operation: 'GetSecretValue', error: 'AccessDeniedException', count: 1 });
    const b = await startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, { only: ['cdn'], force: true });
    arns.push(b);
    const doneB = await waitForExecution(pipeline.sfn, b, { pollMs: 250, timeoutMs: 120_000 });
    expect(await faultHits()).toEqual([1]);
    await cloud.clearFaults();
    expect(doneB.status).toBe('FAILED');
    expect(byName(doneB, 'cdn')).toMatchObject({ outcome: 'failed', error: 'AccessDeniedException' });
    const cleanedB = (await executionHistory(pipeline.sfn, b)).some(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'CleanupAfterFailure',
    );
    expect(cleanedB).toBe(true);
    // A is still running and its values are still there.
    expect((await executionHistory(pipeline.sfn, a)).some((e) => e.type === 'ExecutionSucceeded' || e.type === 'ExecutionFailed')).toBe(false);
    expect(await cdnRecords()).toEqual(valuesOfA);

    const doneA = await waitForExecution(pipeline.sfn, a, { pollMs: 250, timeoutMs: 240_000 });
    await cloud.setSettings({ insyncDelayMs: 200 });
    expect(doneA.status, `${doneA.error}: ${doneA.cause}`).toBe('SUCCEEDED');
    expect(byName(doneA, 'cdn')).toMatchObject({ outcome: 'renewed' });
    expect((await currentSecret(cloud, spec.secretName)).serial).not.toBe(before.serial);
    // The last holder out removed them.
    await expectInvariants(cloud, pipeline, arns);
  }, 300_000);
});
