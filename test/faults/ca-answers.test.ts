// Fault matrix: what the CA answers goes wrong. An order goes invalid because a
// wrong TXT value is served; a certificate that does not match the stored key, or
// misses a requested name, reaches FinalizeOrder. Nothing bad is ever published.
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeSession } from '../../functions/lib/acme.js';
import { Route53ChallengeProvider } from '../../functions/lib/dns/route53.js';
import { findCertificate, findIssuer, type CertificateSpec } from '../../functions/lib/inventory.js';
import { CertificateStore } from '../../functions/lib/store/certificateStore.js';
import { createCsr, generateKeyPair } from '../../functions/lib/x509.js';
import { executionHistory, startExecution, waitForExecution } from '../../bin/run.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';
import { byName, changeTxt, expectEachFaultFired, expectInvariants, recordingRunner } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault matrix: the CA answers wrong', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let route53: Route53Client;
  let store: CertificateStore;
  const arns: string[] = [];

  const run = recordingRunner(() => pipeline, arns);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web' || c.name === 'cdn');
        doc.pipeline.propagation.maxAttempts = 10;
      }),
    );
    route53 = new Route53Client(cloud.sdkConfig());
    store = new CertificateStore(new SecretsManagerClient(cloud.sdkConfig()));
    // This process talks ACME to Pebble too, for the orders placed behind the pipeline's back.
    process.env.CERTPIPE_ACME_CA_BUNDLE = cloud.handle.info.pebbleCaPath;
    const first = await run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  /** Write (UPSERT) or remove (DELETE) a TXT set directly, as another writer would. */
  it('an order goes invalid (a wrong TXT value is served): that certificate fails cleanly, the other renews', async () => {
    const before = { web: await currentSecret(cloud, 'certpipe/web'), cdn: await currentSecret(cloud, 'certpipe/cdn') };
    // Slow every secret read, so FinalizeOrder answers the challenge only after the value below is swapped in.
    await cloud.setFault({ service: 'secretsmanager', operation: 'GetSecretValue', latencyMs: 2500 });
    const arn = await startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, { force: true });
    arns.push(arn);
    let swapped = false;
    for (let i = 0; i < 600 && !swapped; i++) {
      const history = await executionHistory(pipeline.sfn, arn);
      swapped = history.some((e) => {
        const out = e.stateExitedEventDetails?.name === 'CheckPropagation' ? JSON.parse(e.stateExitedEventDetails.output ?? '{}') : undefined;
        return out?.name === 'cdn' && out?.propagation?.ready === true;
      });
      if (!swapped) await sleep(100);
    }
    expect(swapped).toBe(true);
    await changeTxt(cloud, pipeline, 'UPSERT', '_acme-challenge.cdn.example.test', ['wrong-value']);
    const done = await waitForExecution(pipeline.sfn, arn, { pollMs: 250, timeoutMs: 240_000 });
    expectEachFaultFired(await cloud.clearFaults());

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('CertificatesFailed');
    const cdn = byName(done, 'cdn')!;
    expect(cdn).toMatchObject({ outcome: 'failed', error: 'AcmeOrderInvalid' });
    expect(cdn.cause).toMatch(/cdn\.example\.test|incorrect|TXT|unauthorized/i);
    expect(byName(done, 'web')).toMatchObject({ outcome: 'renewed' });
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).toBe(before.cdn.serial);
    expect((await currentSecret(cloud, 'certpipe/web')).serial).not.toBe(before.web.serial);

    // Our values were removed; the foreign one is the test's to remove.
    await changeTxt(cloud, pipeline, 'DELETE', '_acme-challenge.cdn.example.test', ['wrong-value']);
    await expectInvariants(cloud, pipeline, arns);

    // The dead order is not resumed: the next run orders afresh and succeeds.
    const again = await run({ only: ['cdn'], force: true });
    expect(again.status, `${again.error}: ${again.cause}`).toBe('SUCCEEDED');
  }, 300_000);

  /** Place and complete an order outside the pipeline, finalized with `csrKeyPem`; returns its URL once valid. */
  async function orderIssuedBehindTheBack(spec: CertificateSpec, names: string[], csrKeyPem: string): Promise<string> {
    const inventory = pipeline.deployment.inventory;
    const session = await AcmeSession.open(findIssuer(inventory, spec.issuer), new SecretsManagerClient(cloud.sdkConfig()));
    let order = await session.createOrder(names);
    const challenges = await session.dnsChallenges(order);
    const provider = new Route53ChallengeProvider(route53, { hostedZones: inventory.hostedZones, hostedZoneIds: spec.hostedZoneIds });
    const presented = await provider.present(challenges.map((c) => ({ fqdn: c.fqdn, value: c.value })));
    while (!(await provider.changeStatus(presented.changeIds))) await sleep(100);
    await session.completeChallenges(order);
    for (let i = 0; i < 100 && order.status !== 'ready'; i++) {
      await sleep(100);
      order = await session.orderStatus(order.url);
    }
    order = await session.finalize(order, (await createCsr(csrKeyPem, names)).pem);
    for (let i = 0; i < 100 && order.status !== 'valid'; i++) {
      await sleep(100);
      order = await session.orderStatus(order.url);
    }
    await provider.cleanUp(presented.records);
    expect(order.status).toBe('valid');
    return order.url;
  }

  /** Record `orderUrl` as the certificate's renewal in flight, with `keyPem` as its new key. */
  async function claim(spec: CertificateSpec, orderUrl: string, keyPem: string): Promise<void> {
    const current = await store.readCurrent(spec);
    const outcome = await store.claimPending(
      spec,
      { orderUrl, privateKeyPem: keyPem, keyAlgorithm: spec.keyAlgorithm, dnsNames: spec.dnsNames, now: new Date() },
      { expectedCurrentVersionId: current?.versionId },
    );
    expect(outcome.outcome).toBe('claimed');
  }

  it('a certificate that does not match the stored key is never published: typed error, the next run orders afresh', async () => {
    const spec = findCertificate(pipeline.deployment.inventory, 'cdn');
    const before = await currentSecret(cloud, spec.secretName);
    const stored = await generateKeyPair(spec.keyAlgorithm);
    const other = await generateKeyPair(spec.keyAlgorithm);
    await claim(spec, await orderIssuedBehindTheBack(spec, spec.dnsNames, other.privateKeyPem), stored.privateKeyPem);

    const done = await run({ only: ['cdn'] });
    expect(done.status).toBe('FAILED');
    const cdn = byName(done, 'cdn')!;
    expect(cdn).toMatchObject({ outcome: 'failed', reason: 'PendingOrder', error: 'CertificateVerificationFailed' });
    expect(cdn.cause).toMatch(/key/i);
    expect((await currentSecret(cloud, spec.secretName)).serial).toBe(before.serial);
    await expectInvariants(cloud, pipeline, arns);

    // The abandoned claim does not make the next run re-publish the old certificate:
    // a new order, a new serial.
    const again = await run({ only: ['cdn'], force: true });
    expect(again.status, `${again.error}: ${again.cause}`).toBe('SUCCEEDED');
    expect(byName(again, 'cdn')).toMatchObject({ outcome: 'renewed' });
    const renewed = await currentSecret(cloud, spec.secretName);
    expect(renewed.serial).not.toBe(before.serial);
    expect(renewed.orderUrl).not.toBe(before.orderUrl);
  }, 300_000);

  it('a certificate missing a requested name is never published', async () => {
    const spec = findCertificate(pipeline.deployment.inventory, 'web');
    const before = await currentSecret(cloud, spec.secretName);
    const key = await generateKeyPair(spec.keyAlgorithm);
    const apexOnly = spec.dnsNames.filter((n) => !n.startsWith('*.'));
    expect(apexOnly.length).toBeLessThan(spec.dnsNames.length);
    await claim(spec, await orderIssuedBehindTheBack(spec, apexOnly, key.privateKeyPem), key.privateKeyPem);

    const done = await run({ only: ['web'] });
    expect(done.status).toBe('FAILED');
    const web = byName(done, 'web')!;
    expect(web).toMatchObject({ outcome: 'failed', error: 'CertificateVerificationFailed' });
    expect(web.cause).toContain('*.example.test');
    expect((await currentSecret(cloud, spec.secretName)).serial).toBe(before.serial);
    await expectInvariants(cloud, pipeline, arns);
  }, 300_000);
});
