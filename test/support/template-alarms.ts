// The stack's alarms as the local deploy put them (PutMetricAlarm with each
// AWS::CloudWatch::Alarm of the synthesized template, its Refs resolved to the
// deployed functions, state machine and topic), named by construct id for tests.
import type { LocalDeployment } from '../../local/deploy.js';
import type { TestCloud } from './cloud.js';

export interface TemplateAlarms {
  /** Alarm name by the alarm's construct id (ExecutionsFailed, MinDaysToExpiry, …). */
  readonly names: Record<string, string>;
  readonly topicArn: string;
}

const ALARM_LOGICAL_ID = /^PipelineMonitoring([A-Za-z]+)[0-9A-F]{8}$/;

/** The alarms and the alarm topic of the deployed pipeline stack; fails if the deploy only recorded an alarm. */
export function deployedAlarms(deployment: Pick<LocalDeployment, 'stacks' | 'stateMachineArn'>): TemplateAlarms {
  const stack = deployment.stacks.find((s) => Object.values(s.resources).some((r) => r.physicalId === deployment.stateMachineArn));
  if (!stack) throw new Error('no deployed stack holds the state machine');
  if (stack.alarmsRecordedOnly.length) throw new Error(`alarms not put into the local CloudWatch: ${stack.alarmsRecordedOnly.join(', ')}`);
  const names: Record<string, string> = {};
  let topicArn: string | undefined;
  for (const [logicalId, resource] of Object.entries(stack.resources)) {
    if (resource.type === 'AWS::CloudWatch::Alarm') names[ALARM_LOGICAL_ID.exec(logicalId)?.[1] ?? logicalId] = resource.physicalId;
    if (resource.type === 'AWS::SNS::Topic') topicArn = resource.physicalId;
  }
  if (!topicArn) throw new Error(`the ${stack.stackName} stack has no alarm topic`);
  return { names, topicArn };
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
