// The calls Step Functions makes for an execution are judged as the state
// machine's execution role, as in AWS: a Task's lambda:InvokeFunction, a
// Distributed Map's states:StartExecution of its children, its ItemReader's
// s3:GetObject and its ResultWriter's s3:PutObject. A missing grant fails the
// state as AWS reports it, and every decision is recorded.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IamMode } from '../../../local/aws/iam/mode.js';
import { startLocalAws } from '../../../local/aws/server.js';
import { registerFunction } from '../../../local/aws/services/lambda/registry.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const BUCKET = 'certpipe-role-test';
const doubler = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/lambdas/doubler.ts');
const credentials = { accessKeyId: ACCOUNT, secretAccessKey: 'test' };
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const machineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

type LocalAws = Awaited<ReturnType<typeof startLocalAws>>;
interface Decision {
  principal: string;
  action: string;
  resource: string;
  decision: 'allowed' | 'denied';
  statement?: string;
}

async function startCloud(iamMode: IamMode) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'certpipe-sm-role-'));
  const cloud = await startLocalAws({ port: 0, dataDir, iamMode });
  await registerFunction(cloud.url, { functionName: 'fixture-Allowed', entry: doubler, timeoutSeconds: 30 });
  await registerFunction(cloud.url, { functionName: 'fixture-Refused', entry: doubler, timeoutSeconds: 30 });
  const s3 = new S3Client({ region: REGION, endpoint: cloud.url, credentials, forcePathStyle: true, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'due/items.json', Body: JSON.stringify([1, 2]) }));
  const sfn = new SFNClient({ endpoint: cloud.url, region: REGION, credentials, maxAttempts: 1 });
  return { cloud, sfn, close: async () => (await cloud.close(), rmSync(dataDir, { recursive: true, force: true })) };
}

/** The execution role as the local deploy registers one: a trust policy for Step Functions and its identity policy. */
async function registerRole(cloud: LocalAws, name: string, statements: object[]): Promise<string> {
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${name}`;
  const res = await fetch(`${cloud.url}/_certpipe/iam/roles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      roleArn,
      trustPolicy: { Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      policies: [{ name: 'grants', document: { Version: '2012-10-17', Statement: statements } }],
    }),
  });
  expect(res.status).toBe(201);
  return roleArn;
}

async function execute(sfn: SFNClient, name: string, roleArn: string, definition: object, input: object = {}) {
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name, roleArn, definition: JSON.stringify(definition) }));
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  for (let i = 0; i < 600; i++) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') {
      const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
      return { execution, events: events ?? [] };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${executionArn} is still running`);
}

const decisionsOf = async (cloud: LocalAws) => ((await (await fetch(`${cloud.url}/_certpipe/iam/decisions`)).json()) as { decisions: Decision[] }).decisions;
const ofType = (events: HistoryEvent[], type: string) => events.filter((e) => e.type === type);
const session = (roleName: string) => new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/[A-Za-z]{32}$`);

const INVOKE_ALLOWED = { Sid: 'InvokeAllowed', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: functionArn('fixture-Allowed') };

/** Allowed, then Refused: the legacy Lambda task (a function ARN as the Resource), as renewal.asl.json writes its Tasks. */
const TWO_TASKS = {
  StartAt: 'First',
  States: {
    First: { Type: 'Task', Resource: functionArn('fixture-Allowed'), Parameters: { value: 1, run: 'a' }, Next: 'Second' },
    Second: { Type: 'Task', Resource: functionArn('fixture-Refused'), Parameters: { value: 2, run: 'a' }, End: true },
  },
};

describe('the state machine role under CERTPIPE_IAM=enforce', () => {
  let env: Awaited<ReturnType<typeof startCloud>>;
  beforeAll(async () => {
    env = await startCloud('enforce');
  }, 120_000);
  afterAll(async () => env?.close());

  it("a Task whose function the role may not invoke fails with Lambda.AWSLambdaException (AccessDeniedException in the cause); the other Task ran; both decisions are recorded", async () => {
    const roleArn = await registerRole(env.cloud, 'sm-invoke-one', [INVOKE_ALLOWED]);
    const { execution, events } = await execute(env.sfn, 'invoke-one', roleArn, TWO_TASKS);

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Lambda.AWSLambdaException');
    expect(execution.cause).toMatch(
      new RegExp(`^User: arn:aws:sts::${ACCOUNT}:assumed-role/sm-invoke-one/[A-Za-z]{32} is not authorized to perform: lambda:InvokeFunction on resource: ${functionArn('fixture-Refused')} because no identity-based policy allows the lambda:InvokeFunction action \\(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException;`),
    );
    // The refused function is never scheduled: Step Functions records the schedule failure.
    expect(ofType(events, 'LambdaFunctionScheduled').map((e) => e.lambdaFunctionScheduledEventDetails?.resource)).toEqual([functionArn('fixture-Allowed')]);
    expect(ofType(events, 'LambdaFunctionSucceeded')).toHaveLength(1);
    expect(ofType(events, 'LambdaFunctionScheduleFailed')[0]?.lambdaFunctionScheduleFailedEventDetails?.error).toBe('Lambda.AWSLambdaException');

    const mine = (await decisionsOf(env.cloud)).filter((d) => session('sm-invoke-one').test(d.principal));
    expect(mine).toEqual([
      expect.objectContaining({ action: 'lambda:InvokeFunction', resource: functionArn('fixture-Allowed'), decision: 'allowed', statement: 'grants#InvokeAllowed' }),
      expect.objectContaining({ action: 'lambda:InvokeFunction', resource: functionArn('fixture-Refused'), decision: 'denied' }),
    ]);
    // One execution, one session: both calls under the same session name.
    expect(new Set(mine.map((d) => d.principal)).size).toBe(1);
  });

  it('through arn:aws:states:::lambda:invoke the refusal is a TaskFailed the ASL can Catch', async () => {
    const roleArn = await registerRole(env.cloud, 'sm-invoke-none', []);
    const { execution, events } = await execute(env.sfn, 'invoke-caught', roleArn, {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'fixture-Allowed', Payload: { value: 1, run: 'b' } },
          Catch: [{ ErrorEquals: ['Lambda.AWSLambdaException'], ResultPath: '$.error', Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    });
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!).error).toMatchObject({ Error: 'Lambda.AWSLambdaException', Cause: expect.stringContaining('Error Code: AccessDeniedException') });
    expect(ofType(events, 'TaskFailed')[0]?.taskFailedEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'Lambda.AWSLambdaException' });
    expect(ofType(events, 'TaskSucceeded')).toHaveLength(0);
  });

  describe('a Distributed Map', () => {
    const distributedMap = (withWriter: boolean) => ({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { Bucket: BUCKET, Key: 'due/items.json' } },
          ItemSelector: { 'value.$': '$$.Map.Item.Value', 'run.$': '$$.Execution.Name' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Double',
            States: { Double: { Type: 'Task', Resource: functionArn('fixture-Allowed'), End: true } },
          },
          ...(withWriter ? { ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, Prefix: 'results' } } } : {}),
          End: true,
        },
      },
    });
    const read = { Sid: 'ReadItems', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/due/*` };
    const write = { Sid: 'WriteResults', Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/results/*` };
    const start = (name: string) => ({ Sid: 'StartChildren', Effect: 'Allow', Action: 'states:StartExecution', Resource: machineArn(name) });

    it('with every grant, it runs, and each StartExecution, GetObject, PutObject and child invoke is recorded as allowed', async () => {
      const roleArn = await registerRole(env.cloud, 'sm-map-all', [INVOKE_ALLOWED, read, write, start('map-all')]);
      const { execution } = await execute(env.sfn, 'map-all', roleArn, distributedMap(true));
      expect(execution.status).toBe('SUCCEEDED');
      const mine = (await decisionsOf(env.cloud)).filter((d) => session('sm-map-all').test(d.principal));
      expect(mine.every((d) => d.decision === 'allowed')).toBe(true);
      const count = (action: string) => mine.filter((d) => d.action === action).length;
      expect({ get: count('s3:GetObject'), start: count('states:StartExecution'), put: count('s3:PutObject'), invoke: count('lambda:InvokeFunction') }).toEqual({ get: 1, start: 2, put: 2, invoke: 2 });
    });

    it('without states:StartExecution on its own state machine, the map run fails before any child runs', async () => {
      const roleArn = await registerRole(env.cloud, 'sm-map-nostart', [INVOKE_ALLOWED, read, write]);
      const { execution, events } = await execute(env.sfn, 'map-nostart', roleArn, distributedMap(true));
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.Runtime');
      expect(execution.cause).toContain(`AccessDeniedException: User: `);
      expect(execution.cause).toContain(`is not authorized to perform: states:StartExecution on resource: ${machineArn('map-nostart')}`);
      expect(ofType(events, 'MapRunFailed')).toHaveLength(1);
      const mine = (await decisionsOf(env.cloud)).filter((d) => session('sm-map-nostart').test(d.principal));
      expect(mine.filter((d) => d.action === 'lambda:InvokeFunction')).toEqual([]);
      expect(mine).toContainEqual(expect.objectContaining({ action: 'states:StartExecution', resource: machineArn('map-nostart'), decision: 'denied' }));
    });

    it('without s3:GetObject on the items, the Map fails with States.ItemReaderFailed', async () => {
      const roleArn = await registerRole(env.cloud, 'sm-map-noread', [INVOKE_ALLOWED, write, start('map-noread')]);
      const { execution } = await execute(env.sfn, 'map-noread', roleArn, distributedMap(true));
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.ItemReaderFailed');
      expect(execution.cause).toMatch(new RegExp(`^Reading s3://${BUCKET}/due/items.json failed: AccessDenied: User: .* is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::${BUCKET}/due/items.json`));
      const mine = (await decisionsOf(env.cloud)).filter((d) => session('sm-map-noread').test(d.principal));
      expect(mine).toEqual([expect.objectContaining({ action: 's3:GetObject', decision: 'denied' })]);
    });

    it('without s3:PutObject on the results, the Map fails with States.ResultWriterFailed after its children ran', async () => {
      const roleArn = await registerRole(env.cloud, 'sm-map-nowrite', [INVOKE_ALLOWED, read, start('map-nowrite')]);
      const { execution } = await execute(env.sfn, 'map-nowrite', roleArn, distributedMap(true));
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.ResultWriterFailed');
      expect(execution.cause).toContain('AccessDenied: User: ');
      const mine = (await decisionsOf(env.cloud)).filter((d) => session('sm-map-nowrite').test(d.principal));
      expect(mine.filter((d) => d.action === 'lambda:InvokeFunction' && d.decision === 'allowed')).toHaveLength(2);
      expect(mine).toContainEqual(expect.objectContaining({ action: 's3:PutObject', decision: 'denied' }));
    });
  });
});

describe.each([
  ['audit', 'lets the refused invoke through and records it as denied', 1],
  ['off', 'lets it through and records nothing', 0],
] as const)('the state machine role under CERTPIPE_IAM=%s', (mode, behaviour, recorded) => {
  let env: Awaited<ReturnType<typeof startCloud>>;
  beforeAll(async () => {
    env = await startCloud(mode);
  }, 120_000);
  afterAll(async () => env?.close());

  it(behaviour, async () => {
    const roleArn = await registerRole(env.cloud, `sm-${mode}`, [INVOKE_ALLOWED]);
    const { execution } = await execute(env.sfn, `invoke-${mode}`, roleArn, TWO_TASKS);
    expect(execution.status).toBe('SUCCEEDED');
    const denied = (await decisionsOf(env.cloud)).filter((d) => session(`sm-${mode}`).test(d.principal) && d.decision === 'denied');
    expect(denied).toHaveLength(recorded);
  });
});
