// The staging gate and the canary end to end, with two CAs: the test cloud's
// Pebble as production and a second Pebble (its own accounts and root) as the
// staging twin, as in the example config. A new certificate is issued on staging,
// kept in its staging secret, then ordered from production in the same run; a
// certificate already issued for the same names goes straight to production;
// `gate: off` skips staging; a staging failure (the staging Pebble stopped)
// blocks production, pages and shows in `certpipe status`. The canary is issued on
// staging and published to its own secret every run.
import { X509Certificate } from 'node:crypto';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeSecretCommand, ResourceNotFoundException, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../bin/cli.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployedAlarms, evaluateAlarms, type TemplateAlarms } from '../support/template-alarms.js';
import { currentSecret, deployTestPipeline, exampleConfig, placesWithPrivateKeys, storedEvents, type TestPipeline } from './pipeline.js';

/** Whether the stored leaf's chain leads to `rootPem` (intermediate signed by the root, leaf by the intermediate). */
function chainsTo(stored: Record<string, any>, rootPem: string): boolean {
  const leaf = new X509Certificate(stored.certificate);
  const intermediate = new X509Certificate(stored.chain);
  return leaf.verify(intermediate.publicKey) && intermediate.verify(new X509Certificate(rootPem).publicKey);
}

async function secretExists(cloud: TestCloud, name: string): Promise<boolean> {
  try {
    await new SecretsManagerClient(cloud.sdkConfig()).send(new DescribeSecretCommand({ SecretId: name }));
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return false;
    throw err;
  }
}

async function metricSum(cloud: TestCloud, metricName: string, statistic = 'Sum'): Promise<number[]> {
  const cw = new CloudWatchClient(cloud.sdkConfig());
  const res = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [
        { Id: 'm', MetricStat: { Metric: { Namespace: 'Certpipe', MetricName: metricName, Dimensions: [{ Name: 'service', Value: 'certpipe' }] }, Period: 60, Stat: statistic } },
      ],
    }),
  );
  return res.MetricDataResults![0]!.Values ?? [];
}

/** Task and Pass states entered, in order, for one certificate's Map iteration names. */
function statesEntered(history: { type?: string; stateEnteredEventDetails?: { name?: string } }[]): string[] {
  return history.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails!.name!);
}

async function status(cloud: TestCloud, json: boolean): Promise<string> {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, isTTY: false, env: { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir, AWS_ENDPOINT_URL: '' } };
  expect(await cli(['status', '--local', ...(json ? ['--json'] : []), '--wide'], io)).toBe(0);
  return out;
}

describe('staging gate and canary, with a staging Pebble', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let alarms: TemplateAlarms;
  let stagingRoot: string;
  let productionRoot: string;
  const executions: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, stagingPebble: true, settings: { insyncDelayMs: 200 } });
    // web and cdn: gated (pebble's twin is pebble-staging); shop: gate off. The canary is on, as in the example.
    const config = exampleConfig(cloud, (doc) => {
      doc.certificates = doc.certificates.filter((c: any) => ['web', 'shop', 'cdn'].includes(c.name));
      doc.certificates.find((c: any) => c.name === 'shop').gate = 'off';
    });
    pipeline = await deployTestPipeline(cloud, config);
    alarms = deployedAlarms(pipeline.deployment);
    stagingRoot = await cloud.handle.stagingPebble!.rootCertificate();
    productionRoot = await cloud.pebbleRootPem();
    expect(stagingRoot).not.toBe(productionRoot);
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('issues a new certificate on staging, then on production in the same run; only production is published', async () => {
    // Scheduled-style: the schedule starts every execution with {}.
    const run = await pipeline.run({});
    executions.push(run.executionArn);
    expect(run.status, `${run.error}: ${run.cause}`).toBe('SUCCEEDED');

    // The staging result is kept in its own secret and chains to the staging Pebble's root.
    const staged = await currentSecret(cloud, 'certpipe/web/staging');
    expect(chainsTo(staged, stagingRoot)).toBe(true);
    // Production: the certificate's own secret, from the production Pebble, a different certificate.
    const production = await currentSecret(cloud, 'certpipe/web');
    expect(chainsTo(production, productionRoot)).toBe(true);
    expect(production.serial).not.toBe(staged.serial);
    // The workflow went round once: staging's publish, then the production order.
    const entered = statesEntered(run.history);
    expect(entered.filter((s) => s === 'OrderFromProduction')).toHaveLength(2); // web and cdn
    // Consumers hear of production only: one event per certificate, none for the rehearsal.
    const renewed = (await storedEvents(cloud, 'Certificate Renewed')).map((e) => e.detail);
    expect(renewed.map((d) => d.certificate).sort()).toEqual(['cdn', 'certpipe-canary', 'shop', 'web']);
    expect(renewed.find((d) => d.certificate === 'web')).toMatchObject({ serial: production.serial, secretName: 'certpipe/web' });

    // gate: off: production only, no staging secret.
    expect(await secretExists(cloud, 'certpipe/shop/staging')).toBe(false);
    expect(chainsTo(await currentSecret(cloud, 'certpipe/shop'), productionRoot)).toBe(true);
  }, 600_000);

  it('issues and publishes the canary on the staging CA in that scheduled-style run, and reports CanarySucceeded', async () => {
    const canary = await currentSecret(cloud, 'certpipe/canary');
    expect(canary.dnsNames).toEqual(['canary.example.test']);
    expect(chainsTo(canary, stagingRoot)).toBe(true);
    expect(await metricSum(cloud, 'CanarySucceeded', 'Minimum')).toEqual([1]);
    expect((await metricSum(cloud, 'CanaryDurationSeconds', 'Maximum'))[0]).toBeGreaterThan(0);
    const after = await evaluateAlarms(cloud);
    expect(after[alarms.names.CanaryFailing!]!.state).toBe('OK');
    expect(after[alarms.names.StagingGateBlocked!]!.state).toBe('OK');
  });

  it('pages CanaryFailing when no canary succeeded within two schedule intervals (missing data breaches)', async () => {
    // Two 12-hour intervals and a minute later, with no run in between: no datapoint in the alarm's period.
    const later = await evaluateAlarms(cloud, new Date(Date.now() + 2 * 43_200_000 + 60_000));
    expect(later[alarms.names.CanaryFailing!]).toMatchObject({ state: 'ALARM' });
    await evaluateAlarms(cloud); // back to now for the tests below
  });

  it('renews a certificate with unchanged names straight from production', async () => {
    const stagedBefore = await currentSecret(cloud, 'certpipe/web/staging');
    const productionBefore = await currentSecret(cloud, 'certpipe/web');
    const run = await pipeline.run({ only: ['web'], force: true });
    executions.push(run.executionArn);
    expect(run.status, `${run.error}: ${run.cause}`).toBe('SUCCEEDED');
    expect((run.output as any).results).toEqual([expect.objectContaining({ name: 'web', outcome: 'renewed' })]);
    expect(statesEntered(run.history)).not.toContain('OrderFromProduction');
    expect((await currentSecret(cloud, 'certpipe/web/staging')).serial).toBe(stagedBefore.serial);
    const productionAfter = await currentSecret(cloud, 'certpipe/web');
    expect(productionAfter.serial).not.toBe(productionBefore.serial);
    expect(chainsTo(productionAfter, productionRoot)).toBe(true);
  }, 600_000);

  it('blocks production when staging fails, pages StagingGateBlocked (and CanaryFailing), and status shows the gate with the reason', async () => {
    // A later run for a changed certificate, set through the real Secrets Manager API: cdn's production
    // secret says it was issued for other names (its gate-fingerprint tag), and its staging proof is
    // older than a day (the staging secret's issued-at), so the gate sends it to staging first.
    const sm = new SecretsManagerClient(cloud.sdkConfig());
    await sm.send(new TagResourceCommand({ SecretId: 'certpipe/cdn', Tags: [{ Key: 'certpipe:gate-fingerprint', Value: 'issued-for-other-names' }] }));
    await sm.send(new TagResourceCommand({ SecretId: 'certpipe/cdn/staging', Tags: [{ Key: 'certpipe:issued-at', Value: new Date(Date.now() - 25 * 3_600_000).toISOString() }] }));
    const before = await currentSecret(cloud, 'certpipe/cdn');
    const eventsBefore = (await storedEvents(cloud, 'Certificate Renewed')).length;
    await cloud.handle.stagingPebble!.stop();

    // The canary, forced along, fails too (its CA is down).
    const run = await pipeline.run({ only: ['cdn', 'certpipe-canary'], force: true });
    executions.push(run.executionArn);
    expect(run.status).toBe('FAILED');
    expect(JSON.stringify(run.history)).toContain('cdn@staging');
    // Production was never ordered: the certificate stays as it was, nothing was announced.
    expect(statesEntered(run.history)).not.toContain('OrderFromProduction');
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).toBe(before.serial);
    expect(await storedEvents(cloud, 'Certificate Renewed')).toHaveLength(eventsBefore);

    expect(await metricSum(cloud, 'StagingGateBlocked')).toContain(1);
    expect(await metricSum(cloud, 'CanarySucceeded', 'Minimum')).toContain(0);
    const after = await evaluateAlarms(cloud);
    expect(after[alarms.names.StagingGateBlocked!]!.state).toBe('ALARM');
    expect(after[alarms.names.CanaryFailing!]!.state).toBe('ALARM');

    const doc = JSON.parse(await status(cloud, true)) as { certificates: { name: string; gate?: { state: string; reason: string } }[] };
    const gates = Object.fromEntries(doc.certificates.map((c) => [c.name, c.gate?.state]));
    // shop (gate: off) has no gate to show.
    expect(gates).toEqual({ web: 'proven', shop: undefined, cdn: 'blocked', 'certpipe-canary': undefined });
    expect(await status(cloud, false)).toContain('failed on staging');
    expect(doc.certificates.find((c) => c.name === 'cdn')!.gate!.reason).toMatch(/^staging failed \(\w+\): production not ordered$/);
    expect(await status(cloud, false)).toContain('blocked: staging failed');
  }, 600_000);

  it('puts no private key in history, logs, events, metrics or stores', async () => {
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, executions)).toEqual([]);
  }, 120_000);
});
