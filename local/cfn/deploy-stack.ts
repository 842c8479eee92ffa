// One synthesized stack, created in the local cloud the way CloudFormation would
// create it in AWS: every reference resolved to the local names, then each
// resource through the local cloud's API or its registration route (EventBridge
// rules through PutRule/PutTargets). What no local service runs yet (KMS keys,
// SNS topics, the schedule, log groups, …) is
// recorded with its resolved properties in `<dataDir>/stacks/<stack>.json`,
// where the local services that judge or evaluate them read it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand, type Target } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateStateMachineCommand, SFNClient, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { deployedStackPath } from '../../bin/local-cloud.js';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { registerFunction } from '../aws/services/lambda/registry.js';
import type { CfnTemplate, StackArtifact } from './assembly.js';
import { evaluateConditions, resolveValue, type ResolveContext } from './intrinsics.js';
import { NAME_PROPERTIES, physicalResource, type PhysicalResource, type StackEnvironment } from './physical.js';

export interface LocalStackTarget {
  readonly endpointUrl: string;
  readonly dataDir: string;
  /** SDK client config acting as the root of `accountId` in `region`. */
  sdkConfig(accountId: string, region: string): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Variables the local runtime adds to a function's environment (CA bundle, inventory path). */
  localEnvironment(functionEnvironment: Readonly<Record<string, string>>): Record<string, string>;
  /** Rewrites a resolved policy document (hosted zone ids of the config → the local zones' ids). */
  localPolicy(document: unknown): unknown;
}

/** A resource as deployed: its physical id, attributes and resolved properties. */
export interface DeployedResource {
  readonly type: string;
  readonly physicalId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** The record of a deployed stack (`<dataDir>/stacks/<stackName>.json`). */
export interface DeployedStack {
  readonly stackName: string;
  readonly accountId: string;
  readonly region: string;
  readonly deployedAt: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly resources: Readonly<Record<string, DeployedResource>>;
  /** Alarms the local CloudWatch did not take through PutMetricAlarm (recorded here only). */
  readonly alarmsRecordedOnly: readonly string[];
}

/** The role as the IAM judge needs it (`POST /_certpipe/iam/roles`). */
export interface RoleRegistration {
  readonly roleArn: string;
  readonly trustPolicy: unknown;
  readonly policies: readonly { name: string; document: unknown }[];
  readonly managedPolicyArns?: readonly string[];
  /** The first ExternalId the trust policy requires: the registration body before the IAM judge took trust policies. */
  readonly externalId?: string;
}

export const stackRecordPath = deployedStackPath;

/** The record of a deployed stack, or undefined before its first deploy. */
export function readDeployedStack(dataDir: string, stackName: string): DeployedStack | undefined {
  const path = stackRecordPath(dataDir, stackName);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DeployedStack) : undefined;
}

/** The resolved view of a template: physical names first (all deterministic), then properties. */
export function resolveStack(env: StackEnvironment, template: CfnTemplate): Record<string, DeployedResource> {
  const physical = new Map<string, PhysicalResource>();
  const ctx: ResolveContext = {
    pseudo: {
      'AWS::AccountId': env.accountId,
      'AWS::Region': env.region,
      'AWS::Partition': env.partition,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': env.stackName,
      'AWS::StackId': `arn:${env.partition}:cloudformation:${env.region}:${env.accountId}:stack/${env.stackName}/local`,
      'AWS::NotificationARNs': '',
    },
    // SSM-typed parameters (BootstrapVersion) are read by Rules only, which a local deploy does not check.
    parameters: Object.fromEntries(
      Object.entries(template.Parameters ?? {})
        .filter(([, p]) => p.Default !== undefined && !p.Type.startsWith('AWS::SSM::'))
        .map(([name, p]) => [name, p.Default!]),
    ),
    ref: (id) => physicalOf(id)?.ref,
    attribute: (id, attribute) => physicalOf(id)?.attributes[attribute],
  };
  const holds = evaluateConditions(template.Conditions ?? {}, ctx);
  const withConditions: ResolveContext = { ...ctx, condition: holds };
  const included = (id: string) => {
    const condition = template.Resources[id]?.Condition;
    return condition === undefined || holds(condition);
  };
  function physicalOf(logicalId: string): PhysicalResource | undefined {
    if (!physical.has(logicalId)) {
      const resource = template.Resources[logicalId];
      if (!resource || !included(logicalId)) return undefined;
      const props = resource.Properties ?? {};
      const names: Record<string, unknown> = {};
      for (const key of NAME_PROPERTIES) if (key in props) names[key] = resolveValue(props[key], withConditions, `${env.stackName}/${logicalId}.Properties.${key}`);
      physical.set(logicalId, physicalResource(env, logicalId, resource.Type, names));
    }
    return physical.get(logicalId);
  }

  const resources: Record<string, DeployedResource> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const p = physicalOf(logicalId);
    if (!p) continue;
    resources[logicalId] = {
      type: resource.Type,
      physicalId: p.ref,
      attributes: p.attributes,
      properties: resolveValue(resource.Properties ?? {}, withConditions, `${env.stackName}/${logicalId}.Properties`) as Record<string, unknown>,
    };
  }
  return resources;
}

export function resolveOutputs(env: StackEnvironment, template: CfnTemplate, resources: Readonly<Record<string, DeployedResource>>): Record<string, string> {
  const ctx: ResolveContext = {
    pseudo: { 'AWS::AccountId': env.accountId, 'AWS::Region': env.region, 'AWS::Partition': env.partition, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': env.stackName },
    ref: (id) => resources[id]?.physicalId,
    attribute: (id, attribute) => resources[id]?.attributes[attribute],
  };
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition) continue;
    outputs[name] = String(resolveValue(output.Value, ctx, `${env.stackName}/Outputs.${name}`));
  }
  return outputs;
}

const asRecord = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

/** Each role with its trust policy, inline policies and the AWS::IAM::Policy resources attached to it. */
export function roleRegistrations(resources: Readonly<Record<string, DeployedResource>>): RoleRegistration[] {
  const roles = Object.values(resources).filter((r) => r.type === 'AWS::IAM::Role');
  // AWS::IAM::Policy, and the AWS::IAM::ManagedPolicy CDK adds when a role's policy outgrows IAM's size
  // limit ("OverflowPolicy"): both attach through `Roles`; a managed policy may also be named in ManagedPolicyArns.
  const attached = Object.values(resources).filter((r) => r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy');
  return roles.map((role) => {
    const props = role.properties;
    const inline = ((props.Policies as unknown[] | undefined) ?? []).map((p) => ({ name: String(asRecord(p).PolicyName), document: asRecord(p).PolicyDocument }));
    const managedArns = Array.isArray(props.ManagedPolicyArns) ? (props.ManagedPolicyArns as unknown[]).map(String) : [];
    const separate = attached
      .filter((p) => ((p.properties.Roles as unknown[] | undefined) ?? []).includes(role.physicalId) || managedArns.includes(p.physicalId))
      .map((p) => ({ name: String(p.properties.PolicyName ?? p.properties.ManagedPolicyName ?? p.physicalId), document: p.properties.PolicyDocument }));
    const externalId = requiredExternalIds(props.AssumeRolePolicyDocument)[0];
    return {
      roleArn: role.attributes.Arn!,
      trustPolicy: props.AssumeRolePolicyDocument,
      policies: [...inline, ...separate],
      ...(Array.isArray(props.ManagedPolicyArns) ? { managedPolicyArns: props.ManagedPolicyArns as string[] } : {}),
      ...(externalId ? { externalId } : {}),
    };
  });
}

/** The ExternalIds a trust policy's Allow statements require (`StringEquals` on `sts:ExternalId`). */
export function requiredExternalIds(trustPolicy: unknown): string[] {
  const statements = asRecord(trustPolicy).Statement;
  return (Array.isArray(statements) ? statements : [statements]).flatMap((s) => {
    const value = asRecord(asRecord(asRecord(s).Condition).StringEquals)['sts:ExternalId'];
    return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
  });
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url} failed: HTTP ${res.status} ${await res.text()}`);
}

/** `index.handler` → the module file in the asset and the export name. */
function handlerModule(assetDir: string, handler: string): { code: string; exportName: string } {
  const at = handler.lastIndexOf('.');
  const base = handler.slice(0, at);
  const code = ['.mjs', '.js', '.cjs'].map((ext) => join(assetDir, `${base}${ext}`)).find((file) => existsSync(file));
  if (!code) throw new Error(`The asset ${assetDir} has no module for the handler ${handler}`);
  return { code, exportName: handler.slice(at + 1) };
}

async function deployFunction(stack: StackArtifact, logicalId: string, fn: DeployedResource, target: LocalStackTarget): Promise<void> {
  const p = fn.properties;
  const s3Key = String(asRecord(p.Code).S3Key ?? '');
  const assetDir = stack.assetDirectory(s3Key);
  if (!assetDir) throw new Error(`${stack.stackName}/${logicalId}: its code ${s3Key} is not an asset of the cloud assembly`);
  const { code, exportName } = handlerModule(assetDir, String(p.Handler ?? 'index.handler'));
  const variables = asRecord(asRecord(p.Environment).Variables) as Record<string, string>;
  await registerFunction(target.endpointUrl, {
    functionName: fn.physicalId,
    accountId: stack.accountId,
    region: stack.region,
    code,
    handler: exportName,
    // The function calls with temporary credentials of this role, as on Lambda.
    roleArn: String(p.Role),
    environment: { ...variables, ...target.localEnvironment(variables) },
    // CloudFormation's defaults when the template leaves them out.
    timeoutSeconds: Number(p.Timeout ?? 3),
    memoryMb: Number(p.MemorySize ?? 128),
  });
}

/** DefinitionString with DefinitionSubstitutions placed, as Step Functions receives it from CloudFormation. */
export function stateMachineDefinition(properties: Readonly<Record<string, unknown>>): string {
  const substitutions = asRecord(properties.DefinitionSubstitutions);
  const definition = typeof properties.DefinitionString === 'string' ? properties.DefinitionString : JSON.stringify(properties.Definition);
  return definition.replace(/\$\{([^}]+)\}/g, (whole, key: string) => (key in substitutions ? String(substitutions[key]) : whole));
}

async function deployStateMachine(stack: StackArtifact, sm: DeployedResource, target: LocalStackTarget): Promise<void> {
  const sfn = new SFNClient(target.sdkConfig(stack.accountId, stack.region));
  const definition = stateMachineDefinition(sm.properties);
  const roleArn = String(sm.properties.RoleArn);
  try {
    await sfn.send(new CreateStateMachineCommand({ name: sm.attributes.Name!, definition, roleArn, type: (sm.properties.StateMachineType as 'STANDARD' | undefined) ?? 'STANDARD' }));
  } catch (err) {
    if ((err as Error).name !== 'StateMachineAlreadyExists') throw err;
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: sm.physicalId, definition, roleArn }));
  }
}

/**
 * The alarm through the local CloudWatch's PutMetricAlarm (the template's
 * property names are the API's). Until the local CloudWatch serves it, the
 * alarm is kept in the stack record only: returns false then.
 */
async function deployAlarm(cloudwatch: CloudWatchClient, alarm: DeployedResource): Promise<boolean> {
  try {
    await cloudwatch.send(new PutMetricAlarmCommand({ ...alarm.properties, AlarmName: alarm.physicalId } as PutMetricAlarmCommandInput));
    return true;
  } catch (err) {
    const name = (err as Error).name;
    if (/UnknownOperation|InvalidAction|NotImplemented|UnsupportedOperation/.test(name)) return false;
    throw err;
  }
}

/** A rule through PutRule and PutTargets, as CloudFormation creates AWS::Events::Rule (its properties are the API's). */
async function deployRule(events: EventBridgeClient, rule: DeployedResource): Promise<void> {
  const p = rule.properties;
  const pattern = typeof p.EventPattern === 'string' ? p.EventPattern : JSON.stringify(p.EventPattern);
  const bus = typeof p.EventBusName === 'string' ? p.EventBusName : undefined;
  await events.send(new PutRuleCommand({ Name: rule.physicalId, EventPattern: pattern, State: (p.State as 'ENABLED' | undefined) ?? 'ENABLED', EventBusName: bus, Description: p.Description as string | undefined }));
  const targets = (p.Targets as Target[] | undefined) ?? [];
  if (targets.length === 0) return;
  const put = await events.send(new PutTargetsCommand({ Rule: rule.physicalId, EventBusName: bus, Targets: targets }));
  if (put.FailedEntryCount) throw new Error(`rule ${rule.physicalId}: ${put.FailedEntries?.map((f) => `${f.TargetId}: ${f.ErrorMessage}`).join('; ')}`);
}

/** Deploys one stack of the assembly into the local cloud and records it. */
export async function deployStack(stack: StackArtifact, target: LocalStackTarget): Promise<DeployedStack> {
  const env: StackEnvironment = { stackName: stack.stackName, accountId: stack.accountId, region: stack.region, partition: 'aws' };
  const resources = resolveStack(env, stack.template);
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.type === type);

  for (const role of roleRegistrations(resources)) {
    await postJson(`${target.endpointUrl}/_certpipe/iam/roles`, {
      ...role,
      trustPolicy: target.localPolicy(role.trustPolicy),
      policies: role.policies.map((p) => ({ name: p.name, document: target.localPolicy(p.document) })),
    });
  }
  // Key policies: KMS judges every use of a customer-managed key against its key policy, as in AWS.
  for (const [, key] of byType('AWS::KMS::Key')) {
    if (key.properties.KeyPolicy === undefined) continue;
    await postJson(`${target.endpointUrl}/_certpipe/iam/resource-policies`, {
      arn: key.attributes.Arn,
      kind: 'kms-key',
      document: target.localPolicy(key.properties.KeyPolicy),
    });
  }
  // Topics first: the alarms publish to them.
  const topics = byType('AWS::SNS::Topic');
  if (topics.length > 0) {
    const sns = new SNSClient({ ...target.sdkConfig(stack.accountId, stack.region), maxAttempts: 1 });
    for (const [, topic] of topics) await sns.send(new CreateTopicCommand({ Name: topic.attributes.TopicName! }));
  }
  // Buckets before the functions and the workflow that read and write them (CreateBucket: a PUT on the bucket).
  for (const [, bucket] of byType('AWS::S3::Bucket')) {
    const s3 = new S3Client({ ...target.sdkConfig(stack.accountId, stack.region), forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket.physicalId }));
  }
  const rules = byType('AWS::Events::Rule');
  if (rules.length > 0) {
    const events = new EventBridgeClient({ ...target.sdkConfig(stack.accountId, stack.region), maxAttempts: 1 });
    for (const [, rule] of rules) await deployRule(events, rule);
  }
  for (const [logicalId, fn] of byType('AWS::Lambda::Function')) await deployFunction(stack, logicalId, fn, target);
  for (const [, sm] of byType('AWS::StepFunctions::StateMachine')) await deployStateMachine(stack, sm, target);
  const alarmsRecordedOnly: string[] = [];
  const alarms = byType('AWS::CloudWatch::Alarm');
  if (alarms.length > 0) {
    const cloudwatch = new CloudWatchClient({ ...target.sdkConfig(stack.accountId, stack.region), maxAttempts: 1 });
    for (const [, alarm] of alarms) if (!(await deployAlarm(cloudwatch, alarm))) alarmsRecordedOnly.push(alarm.physicalId);
  }

  const record: DeployedStack = {
    stackName: stack.stackName,
    accountId: stack.accountId,
    region: stack.region,
    deployedAt: new Date().toISOString(),
    outputs: resolveOutputs(env, stack.template, resources),
    resources,
    alarmsRecordedOnly,
  };
  mkdirSync(dirname(stackRecordPath(target.dataDir, stack.stackName)), { recursive: true });
  writeFileSync(stackRecordPath(target.dataDir, stack.stackName), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}
