// IAM drift paged, locally: the pipeline stack's drift rules, deployed from the
// synthesized template by PutRule/PutTargets, route a CloudTrail management
// event on a pipeline role to the alarm topic, with who and what; the same
// change on a role that is not the pipeline's pages nobody.
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_STACK_ID } from '../../infra/app.js';
import { readDeployedStack } from '../../local/cfn/deploy-stack.js';
import { sdkConfig, startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployTestPipeline, exampleConfig } from '../e2e/pipeline.js';

const INTRUDER = 'arn:aws:iam::000000000000:user/mallory';

function cloudTrailEvent(account: string, region: string, eventName: string, roleName: string) {
  return {
    account,
    region,
    source: 'aws.iam',
    detailType: 'AWS API Call via CloudTrail',
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'IAMUser', arn: INTRUDER, accountId: account, userName: 'mallory' },
      eventTime: '2026-11-29T10:00:00Z',
      eventSource: 'iam.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.7',
      requestParameters: { roleName, policyName: 'extra', policyDocument: '{"Version":"2012-10-17","Statement":[]}' },
      responseElements: null,
      eventType: 'AwsApiCall',
      managementEvent: true,
    },
  };
}

describe('drift rules in the local cloud', () => {
  let cloud: TestCloud;
  let topicArn: string;
  let pipelineRole: string;
  let account: string;
  let region: string;

  const messages = async () => {
    const res = await fetch(`${cloud.url}/_certpipe/sns/messages?topicArn=${encodeURIComponent(topicArn)}`);
    return ((await res.json()) as { messages: Array<{ message: string }> }).messages.map((m) => m.message);
  };
  const putServiceEvent = (event: unknown) =>
    fetch(`${cloud.url}/_certpipe/events/aws-service`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true });
    await deployTestPipeline(cloud, exampleConfig(cloud));
    const stack = readDeployedStack(cloud.dataDir, PIPELINE_STACK_ID)!;
    ({ accountId: account, region } = stack);
    const of = (type: string) => Object.values(stack.resources).filter((r) => r.type === type);
    topicArn = of('AWS::SNS::Topic')[0]!.attributes.TopicArn!;
    pipelineRole = of('AWS::IAM::Role').find((r) => /CheckExpiry/.test(r.physicalId))!.physicalId;
  }, 300_000);
  afterAll(() => cloud?.close());

  it('pages the alarm topic with the change, the role and the caller for PutRolePolicy on a pipeline role', async () => {
    const before = (await messages()).length;
    expect((await putServiceEvent(cloudTrailEvent(account, region, 'PutRolePolicy', pipelineRole))).status).toBe(200);
    const added = (await messages()).slice(before);
    expect(added).toHaveLength(1);
    expect(JSON.parse(added[0]!)).toMatchObject({ change: 'PutRolePolicy', resource: pipelineRole, who: INTRUDER, time: '2026-11-29T10:00:00Z', account });
  });

  it('pages nobody for the same change on a role that is not the pipeline\'s, nor for an event name not listed', async () => {
    const before = (await messages()).length;
    await putServiceEvent(cloudTrailEvent(account, region, 'PutRolePolicy', 'someone-elses-role'));
    await putServiceEvent(cloudTrailEvent(account, region, 'GetRolePolicy', pipelineRole));
    expect((await messages()).slice(before)).toEqual([]);
  });

  it('refuses aws.* sources through PutEvents and patterns it cannot match, as EventBridge does', async () => {
    const events = new EventBridgeClient(sdkConfig(cloud.url, account, region));
    const put = await events.send(new PutEventsCommand({ Entries: [{ Source: 'aws.iam', DetailType: 'AWS API Call via CloudTrail', Detail: '{}' }] }));
    expect(put.Entries?.[0]?.ErrorCode).toBe('NotAuthorizedForSourceException');
    await expect(events.send(new PutRuleCommand({ Name: 'numeric', EventPattern: JSON.stringify({ detail: { n: [{ numeric: ['>', 1] }] } }) }))).rejects.toMatchObject({ name: 'InvalidEventPatternException' });
  });

  it('routes a custom event through a rule with a prefix matcher and a constant input', async () => {
    const events = new EventBridgeClient(sdkConfig(cloud.url, account, region));
    await events.send(new PutRuleCommand({ Name: 'prefixed', EventPattern: JSON.stringify({ source: ['test.drift'], detail: { name: [{ prefix: 'certpipe/' }] } }) }));
    await events.send(new PutTargetsCommand({ Rule: 'prefixed', Targets: [{ Id: 'page', Arn: topicArn, Input: '"constant"' }] }));
    const before = (await messages()).length;
    await events.send(new PutEventsCommand({ Entries: [
      { Source: 'test.drift', DetailType: 'x', Detail: JSON.stringify({ name: 'certpipe/web' }) },
      { Source: 'test.drift', DetailType: 'x', Detail: JSON.stringify({ name: 'other/web' }) },
    ] }));
    expect((await messages()).slice(before)).toEqual(['"constant"']);
  });
});
