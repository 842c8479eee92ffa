// ARI (RFC 9773) end to end, against the local cloud's ACME front before Pebble:
//  - a certificate whose suggested window is moved into the past (the front's
//    knob, POST /_certpipe/acme/ari: a mass-revocation drill) is renewed in the next
//    run with `replaces` equal to its certID, the CA's explanation in the reason;
//    one whose window lies in the future (Let's Encrypt's default, ~60 days into a
//    90-day certificate) is not, and its renewal time is a time inside that window;
//  - the answer is cached in the tags until its Retry-After: the next run asks the
//    CA nothing for the certificate that was not renewed;
//  - without ARI (a second issuer talks to Pebble directly: no renewalInfo in its
//    directory) the 1/3-of-lifetime rule decides and nothing ARI is stored.
// No clock is faked: windows are moved by the CA's knob, not by waiting.
import { X509Certificate } from 'node:crypto';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../bin/cli.js';
import { executionHistory, type FinishedExecution } from '../../bin/run.js';
import { ariCertId } from '../../functions/lib/acme/ari.js';
import { TAG } from '../../functions/lib/tagNames.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { byName } from '../faults/support.js';
import { currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from './pipeline.js';

interface Decision {
  name: string;
  reason: string;
  message: string;
  renewalTime?: string;
  replaces?: string;
  exempt?: boolean;
}

describe('ARI: the CA steers renewal', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let sm: SecretsManagerClient;

  const knob = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cloud.url}/_certpipe/acme/${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).toBe(200);
    return json;
  };
  const renewalInfoRequests = async () => ((await knob('GET', 'faults')).requests as { resource: string }[]).filter((r) => r.resource === 'renewalInfo').length;
  const tags = async (secret: string) =>
    new Map(((await sm.send(new DescribeSecretCommand({ SecretId: secret }))).Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));

  /** CheckExpiry's decisions in a finished execution (its state output, from the history). */
  async function decisions(done: FinishedExecution): Promise<Decision[]> {
    const history = await executionHistory(pipeline.sfn, done.executionArn);
    const exited = history.find((e) => e.stateExitedEventDetails?.name === 'CheckExpiry');
    const check = JSON.parse(exited!.stateExitedEventDetails!.output!).check as { due: Decision[]; skipped: Decision[] };
    return [...check.due, ...check.skipped];
  }
  const decisionOf = async (done: FinishedExecution, name: string) => (await decisions(done)).find((d) => d.name === name)!;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    sm = new SecretsManagerClient(cloud.sdkConfig());
    const config = exampleConfig(cloud, (doc) => {
      doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web' || c.name === 'shop');
      // A CA without ARI: Pebble itself, not the front before it.
      doc.issuers.push({ ...doc.issuers[0], name: 'pebble-direct', directoryUrl: cloud.handle.pebble!.directoryUrl, accountSecretName: 'certpipe/acme-account/pebble-direct' });
      doc.certificates.push({ ...doc.certificates[0], name: 'plain', issuer: 'pebble-direct', dnsNames: ['plain.example.test'] });
      for (const c of doc.certificates) c.issuer ??= 'pebble';
    });
    pipeline = await deployTestPipeline(cloud, config);
    const first = await pipeline.run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    for (const name of ['web', 'shop', 'plain']) expect(byName(first, name)).toMatchObject({ outcome: 'renewed' });
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('a window moved into the past renews in the next run with replaces = its certID; a window in the future does not', async () => {
    const web = await currentSecret(cloud, 'certpipe/web');
    const shop = await currentSecret(cloud, 'certpipe/shop');
    const webCertId = ariCertId(web.certificate);
    expect((await tags('certpipe/web')).get(TAG.ariCertId)).toBe(webCertId);

    const start = new Date(Date.now() - 2 * 3600_000).toISOString();
    const end = new Date(Date.now() - 3600_000).toISOString();
    const serial = new X509Certificate(web.certificate).serialNumber;
    await knob('POST', 'ari', { serial, start, end, explanationURL: 'https://example.test/incident/42' });
    const ordersBefore = (await knob('GET', 'orders')).orders.length;

    const done = await pipeline.run();
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect(byName(done, 'web')).toMatchObject({ outcome: 'renewed' });
    expect(byName(done, 'shop')).toBeUndefined();
    expect(byName(done, 'plain')).toBeUndefined();

    const webDecision = await decisionOf(done, 'web');
    expect(webDecision).toMatchObject({ reason: 'InRenewalWindow', replaces: webCertId, exempt: true });
    expect(webDecision.message).toContain(`${start} to ${end}`);
    expect(webDecision.message).toContain('https://example.test/incident/42');

    // The order that reached the CA named the certificate it replaces, and only web was ordered.
    const orders = (await knob('GET', 'orders')).orders.slice(ordersBefore) as { identifiers: string[]; replaces?: string }[];
    expect(orders).toHaveLength(1);
    expect(orders[0]!.replaces).toBe(webCertId);
    expect((await currentSecret(cloud, 'certpipe/web')).serial).not.toBe(web.serial);
    expect((await currentSecret(cloud, 'certpipe/shop')).serial).toBe(shop.serial);

    // shop's window is Let's Encrypt's default, two thirds into its 90 days: its renewal time lies inside it.
    const shopDecision = await decisionOf(done, 'shop');
    expect(shopDecision.reason).toBe('UpToDate');
    const cached = (await tags('certpipe/shop')).get(TAG.ariCache)!.split(' ');
    expect(cached[0]).toBe(ariCertId(shop.certificate));
    const [windowStart, windowEnd, renewalTime] = cached.slice(1, 4).map((t) => Date.parse(t)) as [number, number, number];
    expect(Date.parse(shopDecision.renewalTime!)).toBe(renewalTime);
    expect(renewalTime).toBeGreaterThanOrEqual(windowStart);
    expect(renewalTime).toBeLessThanOrEqual(windowEnd);
    const lifetime = Date.parse(shop.notAfter) - Date.parse(shop.notBefore);
    expect((windowStart + windowEnd) / 2 - Date.parse(shop.notBefore)).toBeCloseTo((2 / 3) * lifetime, -5);
  });

  it('the cached window spares the CA: the next run asks renewalInfo only for the certificate that changed', async () => {
    const asked = await renewalInfoRequests();
    const done = await pipeline.run();
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    expect((await decisions(done)).map((d) => [d.name, d.reason]).sort()).toEqual([
      ['plain', 'UpToDate'],
      ['shop', 'UpToDate'],
      ['web', 'UpToDate'],
    ]);
    // web's new certificate has no cached answer yet; shop's is fresh for six hours.
    expect((await renewalInfoRequests()) - asked).toBe(1);
    expect((await tags('certpipe/web')).get(TAG.ariCache)!.split(' ')[0]).toBe(ariCertId((await currentSecret(cloud, 'certpipe/web')).certificate));

    // certpipe status shows the time the pipeline acts on: the one chosen in the CA's window.
    let stdout = '';
    const env: NodeJS.ProcessEnv = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    delete env.CERTPIPE_CONFIG;
    expect(await cli(['status', '--json'], { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, isTTY: false, env })).toBe(0);
    const rows = (JSON.parse(stdout) as { certificates: { name: string; renewal: { renewalTime?: string } }[] }).certificates;
    const shopTime = (await decisions(done)).find((d) => d.name === 'shop')!.renewalTime;
    expect(rows.find((r) => r.name === 'shop')?.renewal.renewalTime).toBe(shopTime);
  });

  it('without ARI (a directory with no renewalInfo) the 1/3-of-lifetime rule decides and nothing ARI is kept', async () => {
    const asked = await renewalInfoRequests();
    const next = await pipeline.run({ only: ['plain'] });
    expect(next.status, `${next.error}: ${next.cause}`).toBe('SUCCEEDED');
    const decision = await decisionOf(next, 'plain');
    const stored = await currentSecret(cloud, 'certpipe/plain');
    const notBefore = Date.parse(stored.notBefore);
    const policyTime = new Date(Math.round(notBefore + (2 / 3) * (Date.parse(stored.notAfter) - notBefore))).toISOString();
    expect(decision).toMatchObject({ reason: 'UpToDate', renewalTime: policyTime });
    expect(decision.replaces).toBeUndefined();
    const kept = await tags('certpipe/plain');
    expect(kept.has(TAG.ariCertId)).toBe(true);
    expect(kept.has(TAG.ariCache)).toBe(false);
    expect((await renewalInfoRequests()) - asked).toBe(0);
  });
});
