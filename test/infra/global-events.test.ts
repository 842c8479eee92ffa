// Outside us-east-1 the app forwards IAM and Route 53 CloudTrail events (which
// reach EventBridge in us-east-1 only) to the pipeline region's default bus, so
// the RoleDrift and ZoneDrift rules there see them. In us-east-1 nothing is added.
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp, GLOBAL_EVENTS_STACK_ID } from '../../infra/app.js';
import { DRIFT_EVENT_NAMES } from '../../infra/constructs/drift-alerts.js';
import { fixtureConfigDocument, nagFindings, PIPELINE_ACCOUNT, REGION, testApp, writeConfig } from './support.js';

const build = (region: string) =>
  buildApp(testApp(), { configPath: writeConfig(fixtureConfigDocument()), region, pipelineAccount: PIPELINE_ACCOUNT, nag: false });

describe('global events forwarder', () => {
  const built = build(REGION);
  const forwarder = built.globalEvents!;

  it(`is a stack of its own in us-east-1, built only when the pipeline is elsewhere (${REGION})`, () => {
    expect(forwarder.stackName).toBe(GLOBAL_EVENTS_STACK_ID);
    expect(forwarder.region).toBe('us-east-1');
    expect(forwarder.account).toBe(PIPELINE_ACCOUNT);
    expect(build('us-east-1').globalEvents).toBeUndefined();
  });

  it('forwards the IAM and Route 53 management events the drift rules match, and nothing else, to the pipeline region\'s default bus', () => {
    const template = Template.fromStack(forwarder);
    template.resourceCountIs('AWS::Events::Rule', 1);
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.iam', 'aws.route53'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['iam.amazonaws.com', 'route53.amazonaws.com'],
        eventName: [...DRIFT_EVENT_NAMES.iam, ...DRIFT_EVENT_NAMES.route53],
      },
    });
    const [target] = rule.Properties.Targets;
    expect(JSON.stringify(forwarder.resolve(target.Arn))).toContain(`:events:${REGION}:${PIPELINE_ACCOUNT}:event-bus/default`);
    expect(target.DeadLetterConfig).toBeDefined();
    // The role EventBridge sends with may put events on that bus only.
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s) => s.Action)).toEqual(['events:PutEvents']);
    expect(JSON.stringify(forwarder.resolve(statements[0].Resource))).toContain(`:events:${REGION}:${PIPELINE_ACCOUNT}:event-bus/default`);
  });

  it('silences the pipeline stack\'s warning that nothing forwards them', () => {
    expect(Annotations.fromStack(built.pipeline).findWarning('*', Match.stringLikeRegexp('us-east-1 only'))).toHaveLength(0);
  });

  it('adds no cdk-nag finding', () => {
    expect(nagFindings(forwarder)).toEqual([]);
  });
});
