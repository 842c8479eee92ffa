// Bad configs and bad props fail at synth with a message that names the field
// and the fix; the IAM scoping follows the config when zone ids are missing.
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../functions/lib/inventory.js';
import { buildApp } from '../../infra/app.js';
import { ConfigError, toInventory } from '../../infra/config.js';
import { CertificateRenewalPipeline, type CertificateRenewalPipelineProps } from '../../infra/constructs/certificate-renewal-pipeline.js';
import { CertpipeTargetAccess, type CertpipeTargetAccessProps } from '../../infra/constructs/certpipe-target-access.js';
import { InfraPropsError } from '../../infra/constructs/errors.js';
import { challengeRecordPatterns, knownHostedZoneIds } from '../../infra/constructs/permissions.js';
import { FUNCTIONS } from '../../infra/functions.js';
import { fixtureConfig, fixtureConfigDocument, nagFindings, PIPELINE_ACCOUNT, REGION, testApp, writeConfig } from './support.js';

const inventory = (): Inventory => toInventory(fixtureConfig(), { region: REGION, accountId: PIPELINE_ACCOUNT });

function pipeline(props: Partial<CertificateRenewalPipelineProps>): () => void {
  return () => {
    const stack = new Stack(testApp(), 'Stack', { env: { account: PIPELINE_ACCOUNT, region: REGION } });
    new CertificateRenewalPipeline(stack, 'Pipeline', { inventory: inventory(), ...props });
  };
}

function synthError(fn: () => void): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected synth to fail');
}

describe('config errors fail synth naming the config field', () => {
  it('reports a config schema error by field (ConfigError from infra/config.ts)', () => {
    const doc = fixtureConfigDocument();
    doc.pipeline.maxConcurrency = 100;
    const err = synthError(() => buildApp(testApp(), { configPath: writeConfig(doc), region: REGION, nag: false }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('pipeline.maxConcurrency');
  });

  it.each([
    ['rate(2 days)', 'runs less than daily'],
    ['cron(0 6 ? * MON-FRI *)', 'does not fire every day'],
  ])('refuses the schedule %s: the MinDaysToExpiry alarm would page between runs', (schedule, problem) => {
    const doc = fixtureConfigDocument();
    doc.pipeline.schedule = schedule;
    const err = synthError(() => buildApp(testApp(), { configPath: writeConfig(doc), region: REGION, nag: false }));
    expect(err).toBeInstanceOf(InfraPropsError);
    expect(err.message).toMatch(new RegExp(`^certpipe config: pipeline\\.schedule: "${schedule.replace(/[()*?]/g, '\\$&')}" ${problem}.*\\. Fix: `));
  });
});

describe('CertificateRenewalPipeline props', () => {
  it.each<[string, Partial<CertificateRenewalPipelineProps>, RegExp]>([
    ['maxConcurrency', { maxConcurrency: 0 }, /^CertificateRenewalPipeline: maxConcurrency: must be an integer from 1 to 40 \(got 0\)\. Fix: /],
    ['maxConcurrency', { maxConcurrency: 41 }, /maxConcurrency: must be an integer from 1 to 40 \(got 41\)/],
    ['propagationWait', { propagationWait: Duration.hours(2) }, /propagationWait: must be from 1 second to 1 hour \(got 2 hours\)/],
    ['scheduleFlexibleWindow', { scheduleFlexibleWindow: Duration.days(2) }, /scheduleFlexibleWindow: must be from 1 minute to 1 day/],
    ['daysToExpiryAlarmThreshold', { daysToExpiryAlarmThreshold: 0 }, /daysToExpiryAlarmThreshold: must be from 1 to 365 \(got 0\)/],
    ['alarmEmails', { alarmEmails: ['pager'] }, /alarmEmails: "pager" is not an email address\. Fix: /],
    ['alarmHttpsEndpoints', { alarmHttpsEndpoints: ['http://pager.example.com'] }, /alarmHttpsEndpoints: "http:\/\/pager\.example\.com" is not an https:\/\/ URL/],
    ['schedule', { schedule: scheduler.ScheduleExpression.rate(Duration.days(3)) }, /schedule: "rate\(3 days\)" runs less than daily/],
    ['functions', { functions: FUNCTIONS.filter((f) => f.name !== 'Summarize') }, /functions: no function for the Task state\(s\) Summarize/],
    // 30 checks × 20 s = 600 s of propagation, plus the Retry schedules, cannot fit 10 minutes.
    ['executionTimeout', { executionTimeout: Duration.minutes(10), propagationWait: Duration.seconds(20) }, /executionTimeout: 600 s cannot hold one certificate's waits: propagation 30 × 20 s = 600 s plus \d+ s of Retry schedules = \d+ s\. Fix: raise executionTimeout to at least \d+ minutes, or lower pipeline\.propagation\.maxAttempts × waitSeconds/],
  ])('rejects a bad %s', (_prop, props, message) => {
    const err = synthError(pipeline(props));
    expect(err).toBeInstanceOf(InfraPropsError);
    expect(err.message).toMatch(message);
  });

  it("warns when renewing every configured certificate in one run would outlast the execution timeout at Route 53's 5 requests per second", () => {
    const inv = inventory();
    const zone = inv.hostedZones[0]!.name;
    const fleet = Array.from({ length: 300 }, (_, i) => ({ ...inv.certificates[0]!, name: `c${i}`, secretName: `certpipe/c${i}`, dnsNames: [`c${i}.${zone}`, `www.c${i}.${zone}`], targets: [] }));
    const build = (certificates: typeof fleet) => {
      const stack = new Stack(testApp(), 'Stack', { env: { account: PIPELINE_ACCOUNT, region: REGION } });
      // 400 s holds one certificate's waits (30 × 1 s of propagation and the Retry schedules), not 300 renewals' 2,100 Route 53 requests.
      new CertificateRenewalPipeline(stack, 'Pipeline', { inventory: { ...inv, certificates }, executionTimeout: Duration.seconds(400), propagationWait: Duration.seconds(1) });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Route 53 requests at'));
    };
    const warnings = build(fleet);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toMatch(/300 renewals, 2100 Route 53 requests at 5 per second: 420 s.*executionTimeout \(400 s\).*newOrdersPer3Hours/);
    expect(build(fleet.slice(0, 200))).toHaveLength(0);
  });

  it('rejects a certificate whose issuer does not exist, naming the certificate', () => {
    const inv = inventory();
    const broken = { ...inv, certificates: [{ ...inv.certificates[0]!, issuer: 'nope' }] };
    expect(synthError(pipeline({ inventory: broken })).message).toMatch(
      /inventory\.certificates\[web\]\.issuer: no issuer is named "nope"\. Fix: add it to issuers or use one of: letsencrypt, zerossl/,
    );
  });

  it('rejects a DNS name outside the hosted zones (its challenge record could not be written)', () => {
    const inv = inventory();
    const broken = { ...inv, certificates: [{ ...inv.certificates[0]!, dnsNames: ['www.example.net'] }] };
    expect(synthError(pipeline({ inventory: broken })).message).toMatch(/inventory\.certificates\[web\]\.dnsNames: "www\.example\.net" is in none of the hosted zones/);
  });

  it('rejects a cross-account target without an ExternalId', () => {
    const inv = inventory();
    const cert = inv.certificates[1]!;
    const broken = { ...inv, certificates: [{ ...cert, targets: [{ type: 'acm' as const, region: 'us-east-1', roleArn: cert.targets[0]!.roleArn! }] }] };
    expect(synthError(pipeline({ inventory: broken })).message).toMatch(/inventory\.certificates\[partner\]\.targets\[0\]\.externalId: a cross-account target needs an ExternalId/);
  });

  it('rejects an inventory that is not one (the message names the field)', () => {
    const broken = { ...inventory(), version: 2 } as unknown as Inventory;
    expect(synthError(pipeline({ inventory: broken })).message).toMatch(/^CertificateRenewalPipeline: inventory: Invalid inventory at version/);
  });
});

describe('CertpipeTargetAccess props', () => {
  const base: CertpipeTargetAccessProps = {
    pipelineAccountId: PIPELINE_ACCOUNT,
    publisherRoleArns: [`arn:aws:iam::${PIPELINE_ACCOUNT}:role/certpipe-publisher`],
    externalIds: ['certpipe-partner'],
    acmRegions: ['us-east-1'],
  };
  const access = (props: Partial<CertpipeTargetAccessProps>) => () =>
    new CertpipeTargetAccess(new Stack(testApp(), 'Target', { env: { account: '222222222222', region: REGION } }), 'Access', { ...base, ...props });

  it.each<[string, Partial<CertpipeTargetAccessProps>, RegExp]>([
    ['pipelineAccountId', { pipelineAccountId: '1234' }, /^CertpipeTargetAccess: pipelineAccountId: "1234" is not a 12-digit account id/],
    ['externalIds', { externalIds: [] }, /externalIds: needs at least one ExternalId/],
    ['publisherRoleArns', { publisherRoleArns: ['arn:aws:iam::999999999999:role/certpipe-publisher'] }, /publisherRoleArns: .* is not a role in the pipeline account 123456789012/],
    ['secrets', { acmRegions: [], secrets: [] }, /secrets: and acmRegions are both empty/],
  ])('rejects a bad %s', (_prop, props, message) => {
    const err = synthError(access(props));
    expect(err).toBeInstanceOf(InfraPropsError);
    expect(err.message).toMatch(message);
  });
});

describe('Route 53 scoping follows the config', () => {
  it('uses hostedzone/* (acknowledged, conditions kept) when a zone has no id', () => {
    const doc = fixtureConfigDocument();
    doc.hostedZones = [{ name: 'example.com' }, { name: 'example.org', id: 'Z0EXAMPLEORG' }];
    const inv = toInventory(fixtureConfig(doc), { region: REGION, accountId: PIPELINE_ACCOUNT });
    expect(knownHostedZoneIds(inv)).toBeUndefined();

    const app = testApp();
    const stack = new Stack(app, 'Stack', { env: { account: PIPELINE_ACCOUNT, region: REGION } });
    new CertificateRenewalPipeline(stack, 'Pipeline', { inventory: inv });
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as any[];
    const write = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).find((s: any) => s.Sid === 'ChallengeRecordsWrite');
    expect(write.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/*']] });
    expect(write.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsRecordTypes']).toEqual(['TXT']);
    expect(nagFindings(app)).toEqual([]);
  });

  it('lets ChangeResourceRecordSets write exactly the CNAME delegation targets the config names, and no other name outside _acme-challenge', () => {
    const doc = fixtureConfigDocument();
    doc.certificates[0].challengeDelegations = { '*.example.com': 'example-com.acme.example.org' };
    const inv = toInventory(fixtureConfig(doc), { region: REGION, accountId: PIPELINE_ACCOUNT });
    const app = testApp();
    const stack = new Stack(app, 'Stack', { env: { account: PIPELINE_ACCOUNT, region: REGION } });
    new CertificateRenewalPipeline(stack, 'Pipeline', { inventory: inv });
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as any[];
    const writes = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Sid === 'ChallengeRecordsWrite');
    expect(writes).toHaveLength(2); // PlaceChallenges and CleanupChallenges
    for (const write of writes) {
      expect(write.Condition['ForAllValues:StringLike']['route53:ChangeResourceRecordSetsNormalizedRecordNames']).toEqual([
        '_acme-challenge.*.example.com',
        '_acme-challenge.*.example.org',
        '_acme-challenge.example.com',
        '_acme-challenge.example.org',
        'example-com.acme.example.org',
      ]);
    }
  });

  it('falls back to the exact challenge names when no zone is configured', () => {
    const inv = inventory();
    expect(challengeRecordPatterns({ ...inv, hostedZones: [] })).toEqual(['_acme-challenge.api.example.org', '_acme-challenge.example.com']);
  });
});
