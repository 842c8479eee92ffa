// The local deploy creates what the synthesized templates say, read back
// through the local cloud's APIs and registration routes; and the assembly
// cache is keyed by what the synthesis reads.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_STACK_ID } from '../../infra/app.js';
import { PIPELINE_STACK_NAME, readLocalStackOutputs } from '../../bin/local-cloud.js';
import { listFunctions } from '../../local/aws/services/lambda/registry.js';
import { assemblyKey, SYNTH_INPUTS } from '../../local/cfn/assembly.js';
import { readDeployedStack, requiredExternalIds, resolveStack, stateMachineDefinition } from '../../local/cfn/deploy-stack.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployTestPipeline, exampleConfig, type TestPipeline } from '../e2e/pipeline.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('the local deploy from the synthesized templates', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true });
    pipeline = await deployTestPipeline(cloud, exampleConfig(cloud));
  }, 300_000);
  afterAll(() => cloud?.close());

  const stacksOf = () => pipeline.deployment.stacks.map((s) => s.stackName);
  const templateOf = (stackName: string) =>
    JSON.parse(readFileSync(join(pipeline.deployment.assembly.directory, `${stackName}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
    };
  const resolvedOf = (stackName: string) => {
    const record = pipeline.deployment.stacks.find((s) => s.stackName === stackName)!;
    return resolveStack({ stackName, accountId: record.accountId, region: record.region, partition: 'aws' }, templateOf(stackName) as any);
  };

  it('deploys the pipeline stack and one target stack per target role of the config', () => {
    expect(PIPELINE_STACK_NAME).toBe(PIPELINE_STACK_ID);
    expect(stacksOf()).toContain(PIPELINE_STACK_ID);
    expect(stacksOf().filter((s) => s.startsWith('CertpipeTarget-')).length).toBeGreaterThan(0);
    expect(readLocalStackOutputs(cloud.dataDir)?.StateMachineArn).toBe(pipeline.deployment.stateMachineArn);
  });

  it("registers each template function with its role, environment, memory, timeout and the asset's built code", async () => {
    const registered = new Map((await listFunctions(cloud.url)).map((f) => [f.functionName, f]));
    const resolved = resolvedOf(PIPELINE_STACK_ID);
    const functions = Object.entries(resolved).filter(([, r]) => r.type === 'AWS::Lambda::Function');
    expect(functions.length).toBe(7);
    const template = templateOf(PIPELINE_STACK_ID);
    for (const [logicalId, fn] of functions) {
      const got = registered.get(fn.physicalId);
      expect(got, fn.physicalId).toBeDefined();
      const p = fn.properties as Record<string, any>;
      expect(got!.roleArn).toBe(p.Role);
      expect(got!.roleArn).toBe(resolved[template.Resources[logicalId]!.Properties.Role['Fn::GetAtt'][0]]!.attributes.Arn);
      expect(got!.memoryMb).toBe(p.MemorySize);
      expect(got!.timeoutSeconds).toBe(p.Timeout);
      // The template's variables, resolved (the KMS key's ARN among them); the local additions on top.
      const { CERTPIPE_INVENTORY: _local, ...templateVariables } = p.Environment.Variables as Record<string, string>;
      expect(got!.environment).toMatchObject(templateVariables);
      expect(got!.environment.CERTPIPE_KMS_KEY_ID).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
      expect(got!.environment.CERTPIPE_INVENTORY).toBe(pipeline.deployment.inventoryPath);
      // The code is the asset the template names, run as built: no re-bundle of functions/*.ts.
      const assetHash = String(p.Code.S3Key).replace(/\.zip$/, '');
      expect(got!.code).toBe(join(pipeline.deployment.assembly.directory, `asset.${assetHash}`, 'index.mjs'));
      expect(got!.entry).toBeUndefined();
    }
  });

  it('creates the state machine from DefinitionString with its substitutions, its role and its TimeoutSeconds', async () => {
    const sm = Object.values(resolvedOf(PIPELINE_STACK_ID)).find((r) => r.type === 'AWS::StepFunctions::StateMachine')!;
    const described = await new SFNClient(cloud.sdkConfig()).send(new DescribeStateMachineCommand({ stateMachineArn: pipeline.deployment.stateMachineArn }));
    expect(described.stateMachineArn).toBe(sm.physicalId);
    expect(described.roleArn).toBe(sm.properties.RoleArn);
    expect(described.definition).toBe(stateMachineDefinition(sm.properties));
    expect(described.definition).not.toMatch(/\$\{\w+FunctionArn\}/);
    const definition = JSON.parse(described.definition!) as { TimeoutSeconds: number; States: Record<string, { Resource?: string }> };
    expect(definition.States.CheckExpiry!.Resource).toBe(pipeline.deployment.functionArns.CheckExpiry);
    // The example config leaves the construct's default: 6 hours.
    expect(definition.TimeoutSeconds).toBe(21_600);
  });

  it('registers every role of every stack with its trust policy and policies, the target role with its ExternalId', async () => {
    const roles = ((await (await fetch(`${cloud.url}/_certpipe/iam/roles`)).json()) as { roles: { roleArn: string; externalId?: string; policies?: unknown[] }[] }).roles;
    const byArn = new Map(roles.map((r) => [r.roleArn, r]));
    for (const stackName of stacksOf()) {
      const resolved = resolvedOf(stackName);
      for (const role of Object.values(resolved).filter((r) => r.type === 'AWS::IAM::Role')) {
        expect(byArn.has(role.attributes.Arn!), role.attributes.Arn).toBe(true);
        const externalIds = requiredExternalIds(role.properties.AssumeRolePolicyDocument);
        if (stackName.startsWith('CertpipeTarget-')) expect(externalIds.length).toBeGreaterThan(0);
        if (externalIds.length > 0) expect(byArn.get(role.attributes.Arn!)!.externalId).toBe(externalIds[0]);
      }
    }
    const target = pipeline.deployment.inventory.certificates.flatMap((c) => c.targets).find((t) => t.roleArn)!;
    expect(byArn.get(target.roleArn!)?.externalId).toBe(target.externalId);
  });

  it('puts every alarm of the template (through PutMetricAlarm, or recorded until the local CloudWatch serves it)', async () => {
    const alarms = Object.values(resolvedOf(PIPELINE_STACK_ID)).filter((r) => r.type === 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    const record = readDeployedStack(cloud.dataDir, PIPELINE_STACK_ID)!;
    const viaApi = alarms.map((a) => a.physicalId).filter((name) => !record.alarmsRecordedOnly.includes(name));
    if (viaApi.length > 0) {
      const described = await new CloudWatchClient(cloud.sdkConfig()).send(new DescribeAlarmsCommand({ AlarmNames: viaApi }));
      expect([...(described.MetricAlarms ?? []).map((a) => a.AlarmName)].sort()).toEqual([...viaApi].sort());
    }
    for (const alarm of alarms) {
      expect(record.resources[Object.keys(record.resources).find((id) => record.resources[id]!.physicalId === alarm.physicalId)!]!.properties).toEqual(alarm.properties);
      // Every action names the deployed topic, not an unresolved reference.
      for (const action of (alarm.properties.AlarmActions as string[]) ?? []) expect(action).toMatch(/^arn:aws:sns:us-east-1:000000000000:Certpipe-/);
    }
  });

  it('records what no local service creates yet with its resolved properties: KMS key policies, SNS topics, the schedule (not fired)', () => {
    const record = readDeployedStack(cloud.dataDir, PIPELINE_STACK_ID)!;
    const ofType = (type: string) => Object.values(record.resources).filter((r) => r.type === type);
    const keys = ofType('AWS::KMS::Key');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key.attributes.Arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${key.physicalId}`);
      expect(JSON.stringify(key.properties.KeyPolicy)).toContain('"arn:aws:iam::000000000000:root"');
    }
    const topics = ofType('AWS::SNS::Topic');
    expect(topics.map((t) => t.physicalId)).toEqual([record.outputs.AlarmTopicArn]);
    const [schedule] = ofType('AWS::Scheduler::Schedule');
    expect((schedule!.properties.Target as { Arn: string }).Arn).toBe(pipeline.deployment.stateMachineArn);
    expect(JSON.stringify(record)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
    const target = readDeployedStack(cloud.dataDir, stacksOf().find((s) => s.startsWith('CertpipeTarget-'))!)!;
    expect(target.accountId).toBe('111111111111');
    expect(Object.values(target.resources).some((r) => r.type === 'AWS::KMS::Alias')).toBe(true);
  });

  it('a second deploy with nothing changed reuses the assembly: no synthesis, the same code', async () => {
    const before = new Map((await listFunctions(cloud.url)).map((f) => [f.functionName, f.code]));
    const again = await deployTestPipeline(cloud, exampleConfig(cloud));
    expect(again.deployment.assembly.synthesized).toBe(false);
    expect(again.deployment.assembly.key).toBe(pipeline.deployment.assembly.key);
    expect(new Map((await listFunctions(cloud.url)).map((f) => [f.functionName, f.code]))).toEqual(before);
  });
});

describe('the assembly cache key', () => {
  let root: string;
  const config = { issuers: [], certificates: [] } as any;
  const params = { config, accountId: '000000000000', region: 'us-east-1' };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'certpipe-key-'));
    for (const input of SYNTH_INPUTS) cpSync(join(REPO, input), join(root, input), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is the same for the same inputs', () => {
    expect(assemblyKey(params, root)).toBe(assemblyKey(params, root));
  });

  it.each(['functions/Summarize.ts', 'functions/lib/renewal.ts', 'statemachines/renewal.asl.json', 'infra/functions.ts', 'package-lock.json'])(
    'changes when %s changes',
    (file) => {
      const before = assemblyKey(params, root);
      const path = join(root, file);
      const original = readFileSync(path);
      writeFileSync(path, Buffer.concat([original, Buffer.from(file.endsWith('.json') ? ' ' : '\n// changed\n')]));
      try {
        expect(assemblyKey(params, root)).not.toBe(before);
      } finally {
        writeFileSync(path, original);
      }
      expect(assemblyKey(params, root)).toBe(before);
    },
  );

  it('changes with the config, the account, the region and the execution timeout', () => {
    const base = assemblyKey(params, root);
    expect(assemblyKey({ ...params, config: { ...config, pipeline: { maxConcurrency: 3 } } }, root)).not.toBe(base);
    expect(assemblyKey({ ...params, accountId: '111111111111' }, root)).not.toBe(base);
    expect(assemblyKey({ ...params, region: 'eu-west-1' }, root)).not.toBe(base);
    expect(assemblyKey({ ...params, executionTimeoutSeconds: 300 }, root)).not.toBe(base);
  });

  it('reads every file under the inputs (a new file counts too)', () => {
    const before = assemblyKey(params, root);
    const added = join(root, 'functions', 'lib', 'added.ts');
    writeFileSync(added, 'export {};\n');
    try {
      expect(assemblyKey(params, root)).not.toBe(before);
    } finally {
      rmSync(added);
    }
    expect(relative(root, added).split(sep)[0]).toBe('functions');
  });
});
