// Fault matrix: the CA answers 429 with Retry-After (Pebble 2.4 cannot, so the local
// cloud's ACME front does, set through POST /_certpipe/acme/faults). No request for that certificate may reach the
// CA before Retry-After; a Retry-After past the execution's end defers the
// certificate instead of failing it or spending quota on retries.
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../bin/cli.js';
import type { CertpipeConfig } from '../../infra/config.js';
import type { AcmeFront } from '../../local/pebble/acme-front/front.js';
import type { AcmeFault } from '../../local/pebble/acme-front/faults.js';
import { executionHistory } from '../../bin/run.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';
import { byName, expectInvariants, recordingRunner } from './support.js';

describe('fault matrix: the CA says Retry-After', () => {
  let cloud: TestCloud;
  let front: AcmeFront;
  let pipeline: TestPipeline;
  let config: CertpipeConfig;
  const arns: string[] = [];
  const run = recordingRunner(() => pipeline, arns);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    // The request log and fault hits are read in process; faults are set through the knob.
    front = cloud.handle.acmeFront!;
    config = exampleConfig(cloud, (doc) => {
      doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web');
    });
    pipeline = await deployTestPipeline(cloud, config);
    const first = await run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    expect(front.requests.some((r) => r.resource === 'newOrder' && !r.injected)).toBe(true);
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  async function setFault(fault: AcmeFault): Promise<void> {
    const res = await fetch(`${cloud.url}/_certpipe/acme/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
    expect(res.status, await res.text()).toBe(200);
  }
  const clearFaults = () => fetch(`${cloud.url}/_certpipe/acme/faults`, { method: 'DELETE' });

  it('429 with Retry-After 5 s on newOrder: the next newOrder comes no sooner, and the certificate renews', async () => {
    const before = (await currentSecret(cloud, 'certpipe/web')).serial;
    const from = front.requests.length;
    await setFault({ request: 'newOrder', status: 429, retryAfter: 5, count: 1 });

    const done = await run({ force: true });
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect(byName(done, 'web')).toMatchObject({ outcome: 'renewed' });
    expect(front.faults[0]!.hits).toBe(1);

    const newOrders = front.requests.slice(from).filter((r) => r.resource === 'newOrder');
    expect(newOrders.map((r) => r.injected)).toEqual([true, false]);
    expect(newOrders[1]!.at - newOrders[0]!.at).toBeGreaterThanOrEqual(5000);
    expect((await currentSecret(cloud, 'certpipe/web')).serial).not.toBe(before);

    // The wait was the ASL's, not a function error that the Lambda Errors alarm would count.
    const history = await executionHistory(pipeline.sfn, done.executionArn);
    expect(history.filter((e) => e.type === 'LambdaFunctionFailed')).toEqual([]);
    expect(history.some((e) => e.stateEnteredEventDetails?.name === 'WaitBeforePlacing')).toBe(true);
    await expectInvariants(cloud, pipeline, arns);
    await clearFaults();
  });

  it('503 with Retry-After 3 s on finalize: FinalizeOrder waits in the ASL and does not finalize again sooner', async () => {
    const from = front.requests.length;
    await setFault({ request: 'finalize', status: 503, retryAfter: 3, count: 1 });

    const done = await run({ force: true });
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect(byName(done, 'web')).toMatchObject({ outcome: 'renewed' });
    expect(front.faults[0]!.hits).toBe(1);
    const finalizes = front.requests.slice(from).filter((r) => r.resource === 'finalize');
    expect(finalizes.map((r) => r.injected)).toEqual([true, false]);
    expect(finalizes[1]!.at - finalizes[0]!.at).toBeGreaterThanOrEqual(3000);
    const history = await executionHistory(pipeline.sfn, done.executionArn);
    expect(history.filter((e) => e.type === 'LambdaFunctionFailed')).toEqual([]);
    await expectInvariants(cloud, pipeline, arns);
    await clearFaults();
  });

  it('Retry-After past the execution timeout: the certificate is deferred (not failed), asks once, and status shows it', async () => {
    // Short enough that the CA's hour lies past it, long enough for one certificate's waits (checked at synth).
    pipeline = await deployTestPipeline(cloud, config, { executionTimeoutSeconds: 900 });
    const before = (await currentSecret(cloud, 'certpipe/web')).serial;
    const from = front.requests.length;
    await setFault({ request: 'newOrder', status: 429, retryAfter: 3600, count: 5 });

    const started = Date.now();
    const done = await run({ force: true });
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    const web = byName(done, 'web') as { outcome: string; retryAfter?: string; error?: string };
    expect(web).toMatchObject({ outcome: 'deferred', error: 'RateLimited' });
    const retryAt = Date.parse(web.retryAfter!);
    expect(retryAt).toBeGreaterThanOrEqual(started + 3600_000);
    expect(retryAt).toBeLessThan(Date.now() + 3600_000 + 5000);
    expect((done.output as { deferred: number; failed: number }).deferred).toBe(1);
    expect((done.output as { failed: number }).failed).toBe(0);

    // One request, no quota spent on retries, and the stored certificate untouched.
    expect(front.faults[0]!.hits).toBe(1);
    expect(front.requests.slice(from).filter((r) => r.resource === 'newOrder')).toHaveLength(1);
    expect((await currentSecret(cloud, 'certpipe/web')).serial).toBe(before);

    const sm = new SecretsManagerClient(cloud.sdkConfig());
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: 'certpipe/web' }))).Tags ?? [];
    expect(tags.find((t) => t.Key === 'certpipe:deferred-until')?.Value).toBe(web.retryAfter);

    let stdout = '';
    const env: NodeJS.ProcessEnv = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    delete env.CERTPIPE_CONFIG;
    const code = await cli(['status', '--json'], { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, isTTY: false, env });
    expect(code).toBe(0);
    const row = (
      JSON.parse(stdout) as { certificates: { name: string; renewal: { reason: string }; lastRun?: { outcome: string; retryAfter?: string } }[] }
    ).certificates.find((c) => c.name === 'web');
    expect(row?.lastRun).toMatchObject({ outcome: 'deferred', retryAfter: web.retryAfter });
    expect(row?.renewal.reason).toBe('DeferredByCa');

    // The next scheduled run does not ask the CA before Retry-After.
    const requestsBefore = front.requests.length;
    const next = await run();
    expect(next.status, `${next.error}: ${next.cause}`).toBe('SUCCEEDED');
    expect((next.output as { skipped?: { name: string; reason: string }[] }).skipped ?? (next.output as any).check?.skipped).toEqual([
      expect.objectContaining({ name: 'web', reason: 'DeferredByCa' }),
    ]);
    expect(front.requests.slice(requestsBefore)).toEqual([]);
    await expectInvariants(cloud, pipeline, arns);
  });
});
