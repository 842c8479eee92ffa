// Until the local deploy reads the synthesized template itself, the alarm tests
// put the stack's alarms as that deploy will: synthesize the app (no bundling:
// the alarms do not depend on the assets), take every AWS::CloudWatch::Alarm,
// resolve the Refs it uses to the local resources (the state machine, the
// functions `certpipe-<State>`, the alarm topic), and call PutMetricAlarm.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { App } from 'aws-cdk-lib';
import { buildApp, PIPELINE_STACK_ID } from '../../infra/app.js';
import type { SnsService } from '../../local/aws/services/sns/service.js';
import type { TestCloud } from './cloud.js';

export interface TemplateAlarms {
  /** Alarm name by the alarm's construct id (ExecutionsFailed, MinDaysToExpiry, …). */
  readonly names: Record<string, string>;
  readonly topicArn: string;
}

const FUNCTION_LOGICAL_ID = /^PipelineFunctions([A-Za-z]+)[0-9A-F]{8}$/;
const ALARM_LOGICAL_ID = /^PipelineMonitoring([A-Za-z]+)[0-9A-F]{8}$/;

function resolver(resources: Record<string, { Type: string }>, refs: { stateMachineArn: string; topicArn: string }) {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const ref = (value as { Ref?: string }).Ref;
    if (ref !== undefined) {
      const type = resources[ref]?.Type;
      if (type === 'AWS::StepFunctions::StateMachine') return refs.stateMachineArn;
      if (type === 'AWS::SNS::Topic') return refs.topicArn;
      const fn = FUNCTION_LOGICAL_ID.exec(ref);
      if (type === 'AWS::Lambda::Function' && fn) return `certpipe-${fn[1]}`;
      throw new Error(`template-alarms: no local resource for Ref ${ref} (${type})`);
    }
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) {
      // The scheduler's dead-letter queue: the local cloud has no SQS, so nothing reports on it.
      if (resources[getAtt[0]]?.Type === 'AWS::SQS::Queue' && getAtt[1] === 'QueueName') return `local-${getAtt[0]}`;
      throw new Error(`template-alarms: no local value for Fn::GetAtt ${getAtt.join('.')}`);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}

/** Synthesizes the stack for `configPath` and puts its alarms into the test cloud. */
export async function putTemplateAlarms(tc: TestCloud, configPath: string, stateMachineArn: string): Promise<TemplateAlarms> {
  const outdir = mkdtempSync(join(tmpdir(), 'certpipe-synth-'));
  try {
    const app = new App({ outdir, builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
    buildApp(app, { configPath, nag: false });
    const template = app.synth().getStackByName(PIPELINE_STACK_ID).template as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const account = stateMachineArn.split(':')[4]!;
    const region = stateMachineArn.split(':')[3]!;
    const topicArn = await tc.cloud.service<SnsService>('sns').createTopic(account, region, 'certpipe-alarms');
    const resolve = resolver(template.Resources, { stateMachineArn, topicArn });
    const cloudwatch = new CloudWatchClient(tc.sdkConfig(account, region));
    const names: Record<string, string> = {};
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
      const id = ALARM_LOGICAL_ID.exec(logicalId)?.[1] ?? logicalId;
      // CloudFormation names an unnamed alarm after the stack and the logical id.
      const name = `${PIPELINE_STACK_ID}-${logicalId}`;
      names[id] = name;
      const properties = resolve(resource.Properties) as Omit<PutMetricAlarmCommandInput, 'AlarmName'>;
      await cloudwatch.send(new PutMetricAlarmCommand({ ...properties, AlarmName: name }));
    }
    return { names, topicArn };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export interface AlarmView {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason: string;
  readonly updatedAt: string;
}

/** `POST /_certpipe/alarms/evaluate`: every alarm evaluated now (or `at`), by name. */
export async function evaluateAlarms(tc: TestCloud, at?: Date): Promise<Record<string, AlarmView>> {
  const res = await fetch(`${tc.url}/_certpipe/alarms/evaluate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(at ? { at: at.toISOString() } : {}),
  });
  if (!res.ok) throw new Error(`alarms/evaluate answered ${res.status}: ${await res.text()}`);
  const { alarms } = (await res.json()) as { alarms: AlarmView[] };
  return Object.fromEntries(alarms.map((a) => [a.name, a]));
}

export interface SnsMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly timestamp: string;
}

export async function snsMessages(tc: TestCloud, topicArn: string): Promise<SnsMessage[]> {
  const res = await fetch(`${tc.url}/_certpipe/sns/messages?topicArn=${encodeURIComponent(topicArn)}`);
  return ((await res.json()) as { messages: SnsMessage[] }).messages;
}
