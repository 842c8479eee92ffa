// The staging gate and the canary in the template: their alarms, the dashboard
// widget, and the staging and canary secrets in the functions' policies.
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertpipePipelineStack } from '../../infra/pipeline-stack.js';
import { fixtureConfig, fixtureConfigDocument, PIPELINE_ACCOUNT, REGION, testApp } from './support.js';

function synth(edit: (doc: Record<string, any>) => void) {
  const doc = fixtureConfigDocument();
  edit(doc);
  const stack = new CertpipePipelineStack(testApp(), 'Certpipe', { config: fixtureConfig(doc), region: REGION, env: { account: PIPELINE_ACCOUNT } });
  const resources: Record<string, any> = Template.fromStack(stack).toJSON().Resources;
  const logicalIdOf = (path: string) => {
    const node = stack.node.findAll().find((c) => c.node.path === path);
    return node instanceof CfnElement ? (stack.resolve(node.logicalId) as string) : undefined;
  };
  const alarm = (id: string) => {
    const logicalId = logicalIdOf(`Certpipe/Pipeline/Monitoring/${id}/Resource`);
    return logicalId ? resources[logicalId].Properties : undefined;
  };
  const statements = (fn: string): any[] => resources[logicalIdOf(`Certpipe/Pipeline/Functions/${fn}Role/DefaultPolicy/Resource`)!].Properties.PolicyDocument.Statement;
  const dashboard = JSON.stringify(Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!.Properties.DashboardBody);
  return { alarm, statements, dashboard };
}

describe('with a staging twin and a canary', () => {
  let t: ReturnType<typeof synth>;
  beforeAll(() => {
    t = synth((doc) => {
      doc.issuers.push({ name: 'letsencrypt-staging', preset: 'letsencrypt-staging' });
      doc.hostedZones.push({ name: 'canary.example.net', id: 'Z0CANARY' });
      doc.canary = { dnsName: 'canary.example.net', issuer: 'letsencrypt-staging' };
    });
  });

  it('StagingGateBlocked pages on any certificate blocked by its staging CA in a run', () => {
    expect(t.alarm('StagingGateBlocked')).toMatchObject({
      MetricName: 'StagingGateBlocked',
      Namespace: 'Certpipe',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('CanaryFailing pages on a failed canary or on no success within two schedule intervals (missing data breaches)', () => {
    expect(t.alarm('CanaryFailing')).toMatchObject({
      MetricName: 'CanarySucceeded',
      Statistic: 'Minimum',
      Period: 2 * 6 * 3600, // the fixture runs every 6 hours
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(t.alarm('CanaryFailing').AlarmActions).toHaveLength(1);
  });

  it('the dashboard has the canary widget (success and duration) and the gate widget', () => {
    expect(t.dashboard).toContain('Canary');
    expect(t.dashboard).toContain('CanaryDurationSeconds');
    expect(t.dashboard).toContain('Staging gate: certificates blocked');
  });

  it("lets the functions write the gated certificate's staging secret and the canary secret, and no other new one", () => {
    const resource = t.statements('PlaceChallenges').find((s) => s.Sid === 'CertificateSecretsReadWrite').Resource as any[];
    const names = resource.map((r) => String(r['Fn::Join'][1][2]).replace(/^.*:secret:/, '').replace(/-\?{6}$/, ''));
    // web (letsencrypt) is gated; partner (zerossl) has no twin.
    expect(names).toEqual(['certpipe/canary', 'certpipe/partner', 'certpipe/web', 'certpipe/web/staging']);
  });
});

describe('without', () => {
  it('has neither alarm', () => {
    const t = synth(() => {});
    expect(t.alarm('StagingGateBlocked')).toBeUndefined();
    expect(t.alarm('CanaryFailing')).toBeUndefined();
    expect(t.dashboard).not.toContain('CanarySucceeded');
  });
});
