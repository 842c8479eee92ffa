// Short lifetimes end to end, with real time: Pebble issues 60-second certificates
// (its certificateValidityPeriod), so "a later run" is a run some seconds later.
// The certificate renews on time across runs, and the expiry alarm is judged
// relative to the lifetime: a healthy short-lived certificate (always far under
// alarms.daysToExpiry) does not page, one left to run under a sixth of its
// lifetime does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployedAlarms, evaluateAlarms, type TemplateAlarms } from '../support/template-alarms.js';
import { currentSecret, deployTestPipeline, exampleConfig, placesWithPrivateKeys, type TestPipeline } from './pipeline.js';

const LIFETIME_SECONDS = 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const untilTime = (ms: number) => sleep(Math.max(0, ms - Date.now()));

describe('a short-lived certificate', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let alarms: TemplateAlarms;
  const arns: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, pebbleValiditySeconds: LIFETIME_SECONDS, settings: { insyncDelayMs: 100 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web');
      }),
    );
    alarms = deployedAlarms(pipeline.deployment);
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  const expiryAlarm = async () => (await evaluateAlarms(cloud))[alarms.names.MinDaysToExpiry!]!;

  it('renews on time across runs; the expiry alarm stays OK while healthy and pages once it is left to die', async () => {
    const first = await pipeline.run();
    arns.push(first.executionArn);
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    const issued = await currentSecret(cloud, 'certpipe/web');

    // A run while the certificate is young: skipped, and its expiry data (far under 14 days) does not page.
    const young = await pipeline.run();
    arns.push(young.executionArn);
    const skipped = (young.output as { skipped: { reason: string; renewalTime: string }[] }).skipped[0]!;
    expect(skipped.reason).toBe('UpToDate');
    expect((await expiryAlarm()).state).toBe('OK');

    // The next run after the renewal time renews it, before it expires.
    const renewalTime = Date.parse(skipped.renewalTime);
    await untilTime(renewalTime + 500);
    const renewal = await pipeline.run();
    arns.push(renewal.executionArn);
    expect(renewal.status, `${renewal.error}: ${renewal.cause}`).toBe('SUCCEEDED');
    expect((renewal.output as { results: { name: string; outcome: string; reason: string }[] }).results).toEqual([
      expect.objectContaining({ name: 'web', outcome: 'renewed', reason: 'InRenewalWindow' }),
    ]);
    const renewed = await currentSecret(cloud, 'certpipe/web');
    expect(renewed.serial).not.toBe(issued.serial);
    expect(Date.parse(renewed.notBefore)).toBeLessThan(Date.parse(issued.notAfter));
    expect(Date.parse(renewed.notAfter)).toBeGreaterThan(Date.parse(issued.notAfter));
    expect((await expiryAlarm()).state).toBe('OK');

    // Left without a run until under a sixth of its lifetime: the next expiry check pages.
    const atRisk = Date.parse(renewed.notAfter) - ((Date.parse(renewed.notAfter) - Date.parse(renewed.notBefore)) * 1) / 6;
    await untilTime(atRisk + 1_000);
    const late = await pipeline.run();
    arns.push(late.executionArn);
    const alarm = await expiryAlarm();
    expect(alarm.state).toBe('ALARM');
    expect(alarm.reason).not.toContain('missing');
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, arns)).toEqual([]);
  }, 300_000);
});
