import { X509Certificate } from 'node:crypto';
// End to end: the example config, the real ASL and handlers, the local cloud and Pebble.
import { readFileSync } from 'node:fs';
import { ACMClient, DescribeCertificateCommand, GetCertificateCommand } from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCertificate } from '../../functions/lib/inventory.js';
import { parseCertificate, splitPemChain, verifyIssued } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import {
  challengeRecordsLeft,
  currentSecret,
  deployTestPipeline,
  exampleConfig,
  logFiles,
  storedEvents,
  placesWithPrivateKeys,
  type TestPipeline,
} from './pipeline.js';
import { executionHistory, type FinishedExecution } from '../../bin/run.js';

describe('the renewal workflow on the local cloud and Pebble', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let first: FinishedExecution;
  let root: string;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 300 } });
    pipeline = await deployTestPipeline(cloud, exampleConfig(cloud));
    root = await cloud.pebbleRootPem();
    first = await pipeline.run();
  }, 600_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('issues every certificate of the example config', () => {
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    const output = first.output as { renewed: number; failed: number; results: { name: string; outcome: string }[] };
    expect(output.failed).toBe(0);
    expect(output.results.map((r) => [r.name, r.outcome]).sort()).toEqual(
      pipeline.deployment.inventory.certificates.map((c) => [c.name, 'renewed']).sort(),
    );
  });

  it('a normal renewal makes no function errors: "order not ready" is a Wait loop, not a Lambda error the Errors alarm counts', async () => {
    const history = await executionHistory(pipeline.sfn, first.executionArn);
    const failures = history.filter((e) => e.type === 'LambdaFunctionFailed').map((e) => e.lambdaFunctionFailedEventDetails?.error);
    expect(failures).toEqual([]);
    // The CA did take time: FinalizeOrder answered "waiting" and the ASL waited at least once.
    expect(history.some((e) => e.stateEnteredEventDetails?.name === 'WaitForOrder')).toBe(true);
  });

  it('stores each certificate with a key that matches, every name, a chain to Pebble root, and current validity', async () => {
    for (const spec of pipeline.deployment.inventory.certificates) {
      const stored = await currentSecret(cloud, spec.secretName);
      const facts = verifyIssued({
        certificatePem: stored.certificate,
        chainPem: stored.chain,
        privateKeyPem: stored.privateKey,
        dnsNames: spec.dnsNames,
        now: new Date(),
        trustedRoots: [root],
        certificateName: spec.name,
      });
      expect(facts.serial).toBe(stored.serial);
      // The leaf is stored twice only for a certificate whose consumers asked for one bundle.
      if (spec.storeFullchain) expect(stored.fullchain).toBe(stored.certificate + stored.chain);
      else expect(stored.fullchain).toBeUndefined();
      // The chain is the verified path: it ends just below Pebble's root.
      const chain = splitPemChain(stored.chain);
      expect(new X509Certificate(chain.at(-1)!).checkIssued(new X509Certificate(root))).toBe(true);
      expect(new Date(stored.notAfter).getTime()).toBeGreaterThan(Date.now());
      expect([...stored.dnsNames].sort()).toEqual([...spec.dnsNames].sort());
      expect(stored.keyAlgorithm).toBe(spec.keyAlgorithm);
    }
  });

  it('apex and wildcard share one challenge name with two values, and the certificate covers both', async () => {
    const web = findCertificate(pipeline.deployment.inventory, 'web');
    expect(web.dnsNames).toEqual(expect.arrayContaining(['example.test', '*.example.test']));
    const stored = await currentSecret(cloud, web.secretName);
    expect(parseCertificate(stored.certificate).dnsNames.sort()).toEqual(['*.example.test', 'example.test']);
  });

  it('imports into ACM in both regions and publishes into the second account', async () => {
    const inventory = pipeline.deployment.inventory;
    for (const spec of inventory.certificates) {
      const stored = await currentSecret(cloud, spec.secretName);
      for (const target of spec.targets) {
        const account = target.roleArn ? target.roleArn.split(':')[4] : '000000000000';
        if (target.type === 'secretsmanager') {
          const copy = await currentSecret(cloud, target.name, account);
          expect(copy.serial).toBe(stored.serial);
        } else {
          const acm = new ACMClient(cloud.sdkConfig(account, target.region));
          const published = (first.output as any).results.find((r: any) => r.name === spec.name).published.targets as string[];
          const id = published.find((t) => t.startsWith(`acm:${account}:${target.region}:`))!;
          const arn = id.split(':').slice(3).join(':');
          const described = await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
          const got = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
          expect(parseCertificate(got.Certificate!).serial).toBe(stored.serial);
          expect(described.Certificate?.Type).toBe('IMPORTED');
        }
      }
    }
    const regions = inventory.certificates.flatMap((c) => c.targets.filter((t) => t.type === 'acm').map((t) => t.region));
    expect(new Set(regions).size).toBeGreaterThanOrEqual(2);
    expect(inventory.certificates.some((c) => c.targets.some((t) => t.roleArn))).toBe(true);
  });

  it('puts a "Certificate Renewed" event per certificate with public facts only', async () => {
    const renewed = await storedEvents(cloud, 'Certificate Renewed');
    expect(renewed.every((e) => e['detail-type'] === 'Certificate Renewed' && typeof e.detail.serial === 'string')).toBe(true);
    expect(renewed.map((e) => e.detail.certificate).sort()).toEqual(
      pipeline.deployment.inventory.certificates.map((c) => c.name).sort(),
    );
  });

  it('leaves no _acme-challenge record behind', async () => {
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
  });

  it('a second run finds nothing due and says why', async () => {
    const second = await pipeline.run();
    expect(second.status).toBe('SUCCEEDED');
    const check = second.output as { dueCount: number; skipped: { name: string; reason: string }[] };
    expect(check.dueCount).toBe(0);
    expect(check.skipped.map((s) => s.reason)).toEqual(pipeline.deployment.inventory.certificates.map(() => 'UpToDate'));
    // Nothing due costs three states: CheckExpiry, the Choice, and Succeed.
    const entered = second.history.filter((e) => e.stateEnteredEventDetails).map((e) => e.stateEnteredEventDetails!.name);
    expect(entered).toEqual(['CheckExpiry', 'AnythingDue', 'NothingDue']);
  });

  it('never writes a PEM private key into execution history, logs, events or metrics', async () => {
    const logs = logFiles(cloud).filter((f) => f.includes('certpipe-'));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.map((f) => readFileSync(f, 'utf8')).join('')).toContain('renewal decision');
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, [first.executionArn])).toEqual([]);
  });
});
