// A CA that forgets every account (Pebble restarted; Let's Encrypt staging has been
// reset before) is not an outage: the next forced run registers the stored account
// key again and renews every certificate (the CA refuses the renewals' ARI
// `replaces`, as the certificates were another account's: they are ordered
// without it). On the way, the ACME request counts the
// functions really write (EMF in their logs) are checked against what the
// AcmeErrorRate alarm reads.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_ERROR_STATUSES, ACME_OK_STATUSES, METRICS_NAMESPACE, METRIC, SERVICE_DIMENSION } from '../../infra/constructs/metrics.js';
import type { PebbleHandle } from '../../local/pebble/pebble.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { restartPebble } from '../support/pebble-restart.js';
import { currentSecret, deployTestPipeline, exampleConfig, placesWithPrivateKeys, type TestPipeline } from './pipeline.js';

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** Every EMF record in the functions' console output, with the function that wrote it. */
function emfRecords(cloud: TestCloud): { fn: string; record: EmfRecord }[] {
  const dir = join(cloud.dataDir, 'aws', 'logs');
  return readdirSync(dir).flatMap((file) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"CloudWatchMetrics"'))
      .map((line) => ({ fn: file.replace(/\.log$/, ''), record: JSON.parse(line.slice(line.indexOf('{'))) as EmfRecord })),
  );
}

/** AcmeRequests summed by Status, and the functions that emitted them. */
function acmeRequests(cloud: TestCloud): { byStatus: Record<string, number>; functions: Set<string>; records: EmfRecord[] } {
  const byStatus: Record<string, number> = {};
  const functions = new Set<string>();
  const records: EmfRecord[] = [];
  for (const { fn, record } of emfRecords(cloud)) {
    if (!record._aws.CloudWatchMetrics.some((d) => d.Metrics.some((m) => m.Name === METRIC.AcmeRequests))) continue;
    records.push(record);
    functions.add(fn);
    const status = String(record.Status);
    byStatus[status] = (byStatus[status] ?? 0) + Number(record[METRIC.AcmeRequests]);
  }
  return { byStatus, functions, records };
}

describe('a CA that forgot every account', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let restarted: PebbleHandle | undefined;
  const arns: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(cloud, exampleConfig(cloud));
  }, 300_000);

  afterAll(async () => {
    await restarted?.stop();
    await cloud?.close();
  });

  it('the functions that talk to the CA emit AcmeRequests by Status, as the AcmeErrorRate alarm reads it', async () => {
    const first = await pipeline.run();
    arns.push(first.executionArn);
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');

    const { byStatus, functions, records } = acmeRequests(cloud);
    expect(byStatus['200'], JSON.stringify(byStatus)).toBeGreaterThan(0);
    expect(byStatus['201'], JSON.stringify(byStatus)).toBeGreaterThan(0);
    expect([...functions].some((f) => f.includes('PlaceChallenges')), [...functions].join(', ')).toBe(true);
    expect([...functions].some((f) => f.includes('FinalizeOrder')), [...functions].join(', ')).toBe(true);
    // The alarm names namespace, metric and the exact dimension set {service, Status}, and adds up known statuses.
    const known = new Set<string>([...ACME_OK_STATUSES, ...ACME_ERROR_STATUSES]);
    for (const record of records) {
      const directive = record._aws.CloudWatchMetrics[0]!;
      expect(directive.Namespace).toBe(METRICS_NAMESPACE);
      expect(directive.Dimensions.map((set) => [...set].sort())).toEqual([['Status', 'service']]);
      expect(record.service).toBe(SERVICE_DIMENSION.service);
      expect(known.has(String(record.Status)), `Status ${String(record.Status)} is not one the alarm counts`).toBe(true);
    }
  }, 300_000);

  it('after the CA restarts with no accounts, a forced run renews every certificate', async () => {
    const names = pipeline.deployment.inventory.certificates.map((c) => c.name).sort();
    const before = new Map<string, string>();
    for (const spec of pipeline.deployment.inventory.certificates) before.set(spec.name, (await currentSecret(cloud, spec.secretName)).serial);

    restarted = await restartPebble(cloud);
    // As `npm start` does after `local:down && local:up`: the deploy reads the restarted
    // CA's new root as the issuer's trust anchor (Pebble makes a new root at each start).
    pipeline = await deployTestPipeline(cloud, exampleConfig(cloud));

    const front = cloud.handle.acmeFront!;
    const [requestsBefore, ordersBefore] = [front.requests.length, front.orders.length];
    const run = await pipeline.run({ force: true });
    arns.push(run.executionArn);
    expect(run.status, `${run.error}: ${run.cause}`).toBe('SUCCEEDED');
    // Each renewal named the certificate it replaces (ARI); the CA refused that, as
    // Let's Encrypt refuses a certificate another account ordered (403), and the
    // order went through without `replaces` instead of failing every run from now on.
    const newOrders = front.requests.slice(requestsBefore).filter((r) => r.resource === 'newOrder');
    expect(newOrders.filter((r) => r.status === 403)).toHaveLength(names.length);
    const placed = front.orders.slice(ordersBefore);
    expect(placed).toHaveLength(names.length);
    expect(placed.filter((o) => o.replaces !== undefined)).toEqual([]);
    const output = run.output as { failed: number; results: { name: string; outcome: string }[] };
    expect(output.results.map((r) => [r.name, r.outcome]).sort()).toEqual(names.map((n) => [n, 'renewed']));
    for (const spec of pipeline.deployment.inventory.certificates) {
      const serial = (await currentSecret(cloud, spec.secretName)).serial;
      expect(serial, spec.name).not.toBe(before.get(spec.name));
    }
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, arns)).toEqual([]);
  }, 300_000);
});
