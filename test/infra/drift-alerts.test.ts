// The IAM drift rules of the pipeline stack: which CloudTrail events they
// match, narrowed to the pipeline's own resources, and what they page with.
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_EVENT_NAMES, secretIdPatterns } from '../../infra/constructs/drift-alerts.js';
import { CertpipePipelineStack } from '../../infra/pipeline-stack.js';
import { fixtureConfig, nagFindings, PIPELINE_ACCOUNT, REGION, testApp } from './support.js';

let stack: CertpipePipelineStack;
let template: Template;
let rules: Record<string, any>;

const ruleFor = (source: string) => Object.values(rules).find((r: any) => r.Properties.EventPattern.source[0] === source)!.Properties;

beforeAll(() => {
  stack = new CertpipePipelineStack(testApp(), 'Certpipe', { config: fixtureConfig(), region: REGION, env: { account: PIPELINE_ACCOUNT } });
  template = Template.fromStack(stack);
  rules = template.findResources('AWS::Events::Rule');
});

describe('drift rules', () => {
  it('has one rule per CloudTrail source, each on management events with the listed event names', () => {
    expect(Object.keys(rules)).toHaveLength(4);
    for (const [source, names] of Object.entries(DRIFT_EVENT_NAMES)) {
      const pattern = ruleFor(`aws.${source}`).EventPattern;
      expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
      expect(pattern.detail.eventSource).toEqual([`${source}.amazonaws.com`]);
      expect(pattern.detail.eventName).toEqual(names);
    }
    expect(DRIFT_EVENT_NAMES.iam).toEqual(expect.arrayContaining(['PutRolePolicy', 'DeleteRolePolicy', 'AttachRolePolicy', 'DetachRolePolicy', 'UpdateAssumeRolePolicy', 'PutRolePermissionsBoundary', 'DeleteRolePermissionsBoundary', 'DeleteRole']));
  });

  it('narrows the IAM rule to the roles of every function and of the state machine', () => {
    const roleNames = ruleFor('aws.iam').EventPattern.detail.requestParameters.roleName;
    const roles = template.findResources('AWS::IAM::Role');
    const own = Object.entries(roles)
      .filter(([, r]: [string, any]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).match(/lambda|states/))
      .map(([id]) => ({ Ref: id }));
    expect(own.length).toBeGreaterThanOrEqual(8);
    expect(roleNames).toEqual(expect.arrayContaining(own));
    expect(roleNames).toHaveLength(own.length);
  });

  it('narrows KMS to the two keys, Route 53 to the configured zone ids, Secrets Manager to the certpipe/ names and ARNs', () => {
    const keys = Object.keys(template.findResources('AWS::KMS::Key'));
    expect(ruleFor('aws.kms').EventPattern.detail.resources.ARN).toEqual(keys.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    expect(ruleFor('aws.route53').EventPattern.detail.requestParameters.id).toEqual(['Z0EXAMPLECOM', 'Z0EXAMPLEORG']);
    const secretIds = ruleFor('aws.secretsmanager').EventPattern.detail.requestParameters.secretId;
    expect(secretIds).toContainEqual({ prefix: 'certpipe/' });
    expect(JSON.stringify(secretIds)).toContain(`:secretsmanager:${REGION}:${PIPELINE_ACCOUNT}:secret:certpipe/`);
  });

  it('pages the alarm topic with what changed, on what, by whom and when', () => {
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
    for (const [resourcePath, source] of [
      ['$.detail.requestParameters.roleName', 'aws.iam'],
      ['$.detail.resources[0].ARN', 'aws.kms'],
      ['$.detail.requestParameters.id', 'aws.route53'],
      ['$.detail.requestParameters.secretId', 'aws.secretsmanager'],
    ] as const) {
      const [target] = ruleFor(source).Targets;
      expect(target.Arn).toEqual({ Ref: topic });
      const paths = target.InputTransformer.InputPathsMap;
      expect(Object.values(paths)).toEqual(expect.arrayContaining(['$.detail.eventName', '$.detail.userIdentity.arn', '$.detail.eventTime', resourcePath]));
      const rendered = JSON.stringify(target.InputTransformer.InputTemplate);
      for (const field of ['change', 'resource', 'who', 'time']) expect(rendered).toContain(field);
    }
  });

  it('lets EventBridge publish to the topic and use its key', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'certpipe: encrypts the alarm topic',
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'EventBridgeDriftRulesPublish', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
  });

  it('warns, outside us-east-1, that IAM and Route 53 events must be forwarded from there', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('us-east-1 only'));
    expect(warnings).toHaveLength(1);
    const east = new CertpipePipelineStack(testApp(), 'Certpipe', { config: fixtureConfig(), region: 'us-east-1', env: { account: PIPELINE_ACCOUNT } });
    expect(Annotations.fromStack(east).findWarning('*', Match.stringLikeRegexp('us-east-1 only'))).toHaveLength(0);
  });

  it('adds no cdk-nag finding', () => {
    expect(nagFindings(stack).filter((f) => f.paths.some((p) => /DriftAlerts/.test(p)))).toEqual([]);
  });
});

describe('secretIdPatterns', () => {
  it('folds names under a shared prefix into one name prefix and one ARN prefix', () => {
    expect(secretIdPatterns(['certpipe/web', 'certpipe/api', 'certpipe/accounts/le', 'plain'], 'arn:aws:secretsmanager:r:1:secret:')).toEqual([
      { prefix: 'certpipe/' },
      { prefix: 'arn:aws:secretsmanager:r:1:secret:certpipe/' },
      { prefix: 'plain' },
      { prefix: 'arn:aws:secretsmanager:r:1:secret:plain' },
    ]);
  });
});
