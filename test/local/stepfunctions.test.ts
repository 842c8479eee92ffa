// The local Step Functions service and the local Lambda runtime, exercised through
// @aws-sdk/client-sfn against a real local endpoint: nothing here is mocked.
// @peculiar/x509 resolves its services through tsyringe, which needs this polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  InvalidDefinition,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../local/aws/server.js';
import { registerStatesRole, STATES_ROLE } from './support/states-role.js';
import { invokeFunction, listFunctions, registerFunction } from '../../local/aws/services/lambda/registry.js';

type LocalAws = Awaited<ReturnType<typeof startLocalAws>>;

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const lambda = (file: string) => path.join(fixtures, 'lambdas', file);
const asl = (file: string) => readFileSync(path.join(fixtures, 'asl', file), 'utf8');
const ROLE = STATES_ROLE;
const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111111111111';
const arnOf = (name: string, account = ACCOUNT) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;

function sfnClient(url: string, accessKeyId = ACCOUNT): SFNClient {
  return new SFNClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'test' }, maxAttempts: 1 });
}

let dataDir: string;
let cloud: LocalAws;
let sfn: SFNClient;

async function createMachine(name: string, definition: string, client = sfn, roleArn = ROLE): Promise<string> {
  const { stateMachineArn } = await client.send(new CreateStateMachineCommand({ name, definition, roleArn }));
  return stateMachineArn!;
}

async function finished(executionArn: string, client = sfn): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 600; i++) {
    const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${executionArn} is still running`);
}

async function history(executionArn: string, extra: { reverseOrder?: boolean; includeExecutionData?: boolean } = {}): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 7, nextToken, ...extra }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** A self-signed certificate and key for 127.0.0.1, made now (never stored in the repository). */
async function selfSignedTls(): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=certpipe test CA',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      keys,
      signingAlgorithm: algorithm,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: certificate.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

async function registerFixtures(url: string): Promise<void> {
  const common = { timeoutSeconds: 30 };
  await Promise.all([
    registerFunction(url, { functionName: 'fixture-EnvA', entry: lambda('env-echo.ts'), environment: { GREETING: 'hello from A' }, ...common }),
    registerFunction(url, { functionName: 'fixture-EnvB', entry: lambda('env-echo.ts'), environment: { GREETING: 'hello from B' }, ...common }),
    registerFunction(url, { functionName: 'fixture-Doubler', entry: lambda('doubler.ts'), ...common }),
    registerFunction(url, { functionName: 'fixture-Flaky', entry: lambda('flaky.ts'), ...common }),
    registerFunction(url, { functionName: 'fixture-OrderInvalid', entry: lambda('order-invalid.ts'), ...common }),
    registerFunction(url, { functionName: 'fixture-Cleanup', entry: lambda('cleanup.ts'), ...common }),
    registerFunction(url, { functionName: 'fixture-Sleeper', entry: lambda('sleeper.ts'), timeoutSeconds: 1 }),
    registerFunction(url, { functionName: 'fixture-Sdk', accountId: OTHER_ACCOUNT, entry: lambda('sdk-caller.ts'), ...common }),
  ]);
}

beforeAll(async () => {
  // A variable of the host process that no function may see.
  process.env.CERTPIPE_TEST_HOST_ONLY = 'host secret';
  dataDir = mkdtempSync(`${os.tmpdir()}/certpipe-`);
  cloud = await startLocalAws({ port: 0, dataDir });
  sfn = sfnClient(cloud.url);
  await registerStatesRole(cloud.url);
  await registerFixtures(cloud.url);
});

afterAll(async () => {
  delete process.env.CERTPIPE_TEST_HOST_ONLY;
  await cloud?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('local Step Functions with local Lambda functions', () => {
  let pipelineArn: string;
  let succeededArn: string;
  let failedArn: string;

  it('runs a workflow end to end: per-function environment, both Lambda task styles, Wait, Map, Retry, Choice', async () => {
    pipelineArn = await createMachine('pipeline', asl('pipeline.asl.json'));
    const input = { mode: 'ok', items: [1, 2, 3, 4, 5] };
    ({ executionArn: succeededArn } = (await sfn.send(
      new StartExecutionCommand({ stateMachineArn: pipelineArn, name: 'happy', input: JSON.stringify(input) }),
    )) as { executionArn: string });
    ({ executionArn: failedArn } = (await sfn.send(
      new StartExecutionCommand({ stateMachineArn: pipelineArn, name: 'unhappy', input: JSON.stringify({ ...input, mode: 'fail' }) }),
    )) as { executionArn: string });

    const execution = await finished(succeededArn);
    expect(execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output!);
    // Two functions from the same code, each with its own value for the same variable.
    expect(output.a).toMatchObject({
      greeting: 'hello from A',
      leakedFromHost: null,
      region: 'us-east-1',
      accessKeyId: ACCOUNT,
      endpointUrl: cloud.url,
      functionName: 'fixture-EnvA',
      invokedFunctionArn: arnOf('fixture-EnvA'),
      hasTimeLeft: true,
    });
    expect(output.b).toEqual({ greeting: 'hello from B', statusCode: 200 });
    expect(output.doubled.map((d: { doubled: number }) => d.doubled)).toEqual([2, 4, 6, 8, 10]);
    const concurrency = output.doubled.map((d: { concurrent: number }) => d.concurrent);
    expect(Math.max(...concurrency)).toBeLessThanOrEqual(2);
    expect(output.flaky).toEqual({ attempts: 2 });
    expect(execution.startDate).toBeInstanceOf(Date);
    expect(execution.stopDate!.getTime()).toBeGreaterThanOrEqual(execution.startDate!.getTime());
  });

  it('routes a caught typed error to a cleanup task, then fails at the Fail state', async () => {
    const execution = await finished(failedArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('RenewalFailed');
    expect(execution.cause).toBe('the order failed and its challenges were cleaned up');

    const events = await history(failedArn);
    const failure = events.find((e) => e.type === 'LambdaFunctionFailed' && e.lambdaFunctionFailedEventDetails?.error === 'AcmeOrderInvalid');
    expect(JSON.parse(failure!.lambdaFunctionFailedEventDetails!.cause!)).toEqual({
      errorType: 'AcmeOrderInvalid',
      errorMessage: 'order for the certificate became invalid',
    });
    const cleanupExit = events.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Cleanup');
    expect(JSON.parse(cleanupExit!.stateExitedEventDetails!.output!).cleanup).toEqual({ cleaned: true, after: 'AcmeOrderInvalid' });
    expect(events.some((e) => e.type === 'FailStateEntered' && e.stateEnteredEventDetails?.name === 'GiveUp')).toBe(true);
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'RenewalFailed', cause: 'the order failed and its challenges were cleaned up' },
    });
  });

  it('records the history as Step Functions does, paged, reversed and without data on request', async () => {
    const events = await history(succeededArn);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: 'ExecutionStarted', previousEventId: 0 });
    expect(JSON.parse(events[0]!.executionStartedEventDetails!.input!)).toEqual({ mode: 'ok', items: [1, 2, 3, 4, 5] });
    expect(events[0]!.timestamp).toBeInstanceOf(Date);
    expect(events.at(-1)!.type).toBe('ExecutionSucceeded');

    // A bare function ARN is a "LambdaFunction" task, in order inside its state.
    const types = events.map((e) => e.type);
    const enteredA = events.findIndex((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'ReadEnvA');
    expect(types.slice(enteredA, enteredA + 5)).toEqual([
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
    ]);
    expect(events[enteredA + 1]!.lambdaFunctionScheduledEventDetails).toMatchObject({ resource: arnOf('fixture-EnvA'), input: '{"label":"a"}' });
    // arn:aws:states:::lambda:invoke is a service integration: Task* events.
    const enteredB = events.findIndex((e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'ReadEnvB');
    expect(types.slice(enteredB, enteredB + 5)).toEqual(['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited']);
    expect(events[enteredB + 1]!.taskScheduledEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' });
    expect(JSON.parse(events[enteredB + 1]!.taskScheduledEventDetails!.parameters!)).toEqual({ FunctionName: 'fixture-EnvB', Payload: { label: 'b' } });

    expect(types).toContain('WaitStateEntered');
    expect(types).toContain('ChoiceStateEntered');
    expect(types).toContain('MapStateEntered');
    expect(types).toContain('MapStateExited');
    expect(events.filter((e) => e.type === 'MapIterationStarted').map((e) => e.mapIterationStartedEventDetails?.index).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(events.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(5);
    // The retried first attempt of Flaky failed with the typed error's name.
    const flakyFailure = events.find((e) => e.type === 'LambdaFunctionFailed');
    expect(flakyFailure!.lambdaFunctionFailedEventDetails!.error).toBe('AwsTransient');
    expect(events.filter((e) => e.type === 'LambdaFunctionScheduled' && e.lambdaFunctionScheduledEventDetails?.resource === arnOf('fixture-Flaky'))).toHaveLength(2);

    const reversed = await history(succeededArn, { reverseOrder: true });
    expect(reversed.map((e) => e.id)).toEqual(events.map((e) => e.id).reverse());
    const withoutData = await history(succeededArn, { includeExecutionData: false });
    expect(withoutData[0]!.executionStartedEventDetails!.input).toBeUndefined();
    expect(withoutData[0]!.executionStartedEventDetails!.roleArn).toBe(ROLE);
  });

  it('writes each function’s console output to its own log file', () => {
    const lines = readFileSync(path.join(dataDir, 'logs', 'fixture-EnvA.log'), 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toContainEqual({ level: 'INFO', message: 'env read', function: 'fixture-EnvA', label: 'a' });
  });

  it('stops a running execution: it ends ABORTED and runs no further state', async () => {
    const holdArn = await createMachine('hold', asl('hold.asl.json'));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: holdArn, name: 'to-stop' }));
    let events: HistoryEvent[] = [];
    while (!events.some((e) => e.type === 'WaitStateEntered')) events = await history(executionArn!);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    const { stopDate } = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by the test' }));
    expect(stopDate).toBeInstanceOf(Date);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by the test' });
    events = await history(executionArn!);
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Operator', cause: 'stopped by the test' } });
    expect(events.some((e) => e.stateEnteredEventDetails?.name === 'Released')).toBe(false);
  });

  it('fails a task whose function outlives its timeout with Sandbox.Timedout, and starts it fresh afterwards', async () => {
    const machineArn = await createMachine('timeout', asl('single-task.asl.json').replace('${FunctionArn}', arnOf('fixture-Sleeper')));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify({ ms: 5000 }) }));
    const execution = await finished(executionArn!);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Sandbox.Timedout');
    expect(JSON.parse(execution.cause!)).toMatchObject({ errorType: 'Sandbox.Timedout' });
    expect(JSON.parse(execution.cause!).errorMessage).toMatch(/Task timed out after 1\.00 seconds$/);

    expect(await invokeFunction(cloud.url, 'fixture-Sleeper', { ms: 10 })).toEqual({ ok: true, payload: { slept: 10 } });
  });

  it('fails a task whose function is not registered, naming the ARN', async () => {
    const missing = arnOf('fixture-Missing');
    const machineArn = await createMachine('unregistered', asl('single-task.asl.json').replace('${FunctionArn}', missing));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn }));
    const execution = await finished(executionArn!);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
    expect(execution.cause).toContain(missing);
  });

  it('lets a function call the local endpoint with only its own environment, in its own account', async () => {
    const definition = asl('single-task.asl.json').replace('${FunctionArn}', arnOf('fixture-Sdk', OTHER_ACCOUNT));
    const other = sfnClient(cloud.url, OTHER_ACCOUNT);
    // Its execution role is of its own account: a role of another could invoke nothing there without a resource policy.
    const otherRole = `arn:aws:iam::${OTHER_ACCOUNT}:role/certpipe-local-states`;
    await registerStatesRole(cloud.url, otherRole);
    const machineArn = await createMachine('other-account', definition, other, otherRole);
    const { executionArn } = await other.send(new StartExecutionCommand({ stateMachineArn: machineArn }));
    const execution = await finished(executionArn!, other);
    expect(execution.status).toBe('SUCCEEDED');
    // It sees the other account's machines only.
    expect(JSON.parse(execution.output!)).toEqual({ account: OTHER_ACCOUNT, stateMachines: ['other-account'] });
  });

  it('keeps a function warm between calls, and replaces it when it is registered again', async () => {
    const def = { functionName: 'fixture-Replaced', entry: lambda('env-echo.ts'), environment: { GREETING: 'v1' } };
    await registerFunction(cloud.url, def);
    expect(await invokeFunction(cloud.url, 'fixture-Replaced', {})).toMatchObject({ ok: true, payload: { greeting: 'v1', invocations: 1 } });
    expect(await invokeFunction(cloud.url, 'fixture-Replaced', {})).toMatchObject({ ok: true, payload: { greeting: 'v1', invocations: 2 } });
    const replaced = await registerFunction(cloud.url, { ...def, environment: { GREETING: 'v2' } });
    expect(replaced).toMatchObject({ functionArn: arnOf('fixture-Replaced'), environment: { GREETING: 'v2' }, handler: 'handler', timeoutSeconds: 60 });
    expect(await invokeFunction(cloud.url, 'fixture-Replaced', {})).toMatchObject({ ok: true, payload: { greeting: 'v2', invocations: 1 } });

    await expect(registerFunction(cloud.url, { ...def, entry: lambda('no-such-handler.ts') })).rejects.toThrow(/400.*does not exist/);
    await expect(registerFunction(cloud.url, { ...def, functionName: 'not a name' })).rejects.toThrow(/400.*functionName/);
    await registerFunction(cloud.url, { ...def, functionName: 'fixture-NoExport', handler: 'missing' });
    expect(await invokeFunction(cloud.url, 'fixture-NoExport', {})).toMatchObject({ ok: false, errorType: 'Runtime.HandlerNotFound' });
  });

  it('gives a function the extra CA named by its own NODE_EXTRA_CA_CERTS, and no other function', async () => {
    const tls = await selfSignedTls();
    const caFile = path.join(dataDir, 'test-ca.pem');
    writeFileSync(caFile, tls.cert);
    const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('trusted'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      await registerFunction(cloud.url, { functionName: 'fixture-TrustsCa', entry: lambda('https-get.ts'), environment: { NODE_EXTRA_CA_CERTS: caFile } });
      await registerFunction(cloud.url, { functionName: 'fixture-DefaultCas', entry: lambda('https-get.ts') });
      expect(await invokeFunction(cloud.url, 'fixture-TrustsCa', { url })).toEqual({ ok: true, payload: { status: 200, body: 'trusted' } });
      const untrusted = await invokeFunction(cloud.url, 'fixture-DefaultCas', { url });
      expect(untrusted).toMatchObject({ ok: true, payload: { error: expect.stringMatching(/CERT|SIGNED/) } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('pages ListExecutions newest first, filters by status and refuses a reused execution name', async () => {
    const machineArn = await createMachine('paging', JSON.stringify({ StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } }));
    for (let i = 1; i <= 5; i++) {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: `run-${i}`, input: `{"i":${i}}` }));
      await finished(executionArn!);
    }
    const names: string[] = [];
    const starts: number[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 2, nextToken }));
      expect(page.executions!.length).toBeLessThanOrEqual(2);
      names.push(...page.executions!.map((e) => e.name!));
      starts.push(...page.executions!.map((e) => e.startDate!.getTime()));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken);
    expect(pages).toBe(3);
    expect(names).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);

    const succeeded = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: 'SUCCEEDED' }));
    expect(succeeded.executions).toHaveLength(5);
    const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: 'RUNNING' }));
    expect(running.executions).toEqual([]);

    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'run-1', input: '{"i":1}' }))).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
  });

  it('manages state machines with AWS semantics and errors', async () => {
    const definition = asl('hold.asl.json');
    const first = await sfn.send(new CreateStateMachineCommand({ name: 'lifecycle', definition, roleArn: ROLE }));
    const again = await sfn.send(new CreateStateMachineCommand({ name: 'lifecycle', definition, roleArn: ROLE }));
    expect(again.stateMachineArn).toBe(first.stateMachineArn);
    expect(first.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:lifecycle');
    await expect(
      sfn.send(new CreateStateMachineCommand({ name: 'lifecycle', definition: asl('pipeline.asl.json'), roleArn: ROLE })),
    ).rejects.toBeInstanceOf(StateMachineAlreadyExists);
    await expect(sfn.send(new CreateStateMachineCommand({ name: 'broken', definition: '{"StartAt":', roleArn: ROLE }))).rejects.toBeInstanceOf(
      InvalidDefinition,
    );
    await expect(
      sfn.send(new CreateStateMachineCommand({ name: 'dangling', definition: '{"StartAt":"Nowhere","States":{}}', roleArn: ROLE })),
    ).rejects.toBeInstanceOf(InvalidDefinition);

    const passOnly = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 'updated', End: true } } });
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: first.stateMachineArn, definition: passOnly }));
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: first.stateMachineArn }));
    expect(described).toMatchObject({ name: 'lifecycle', definition: passOnly, roleArn: ROLE, type: 'STANDARD', status: 'ACTIVE' });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: first.stateMachineArn }));
    expect((await finished(executionArn!)).output).toBe('"updated"');

    const listed = await sfn.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines!.map((m) => m.name)).toContain('lifecycle');
    await expect(
      sfn.send(new DescribeStateMachineCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:never-created' })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:pipeline:nope' })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('keeps everything across a restart and fails what was running in the old process', async () => {
    const holdArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:hold';
    const { executionArn: interrupted } = await sfn.send(new StartExecutionCommand({ stateMachineArn: holdArn, name: 'interrupted' }));
    let events: HistoryEvent[] = [];
    while (!events.some((e) => e.type === 'WaitStateEntered')) events = await history(interrupted!);

    await cloud.close();
    cloud = await startLocalAws({ port: 0, dataDir });
    sfn = sfnClient(cloud.url);

    const before = await sfn.send(new DescribeExecutionCommand({ executionArn: succeededArn }));
    expect(before.status).toBe('SUCCEEDED');
    expect(JSON.parse(before.output!).b.greeting).toBe('hello from B');
    expect((await history(succeededArn)).at(-1)!.type).toBe('ExecutionSucceeded');

    const dead = await sfn.send(new DescribeExecutionCommand({ executionArn: interrupted }));
    expect(dead).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: 'local endpoint restarted' });
    const deadHistory = await history(interrupted!);
    expect(deadHistory.map((e) => e.type)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed']);

    // Registered functions survive too, and run against the new endpoint.
    expect((await listFunctions(cloud.url)).map((f) => f.functionArn)).toContain(arnOf('fixture-EnvA'));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: pipelineArn, name: 'after-restart', input: JSON.stringify({ mode: 'ok', items: [] }) }),
    );
    const execution = await finished(executionArn!);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!).a).toMatchObject({ greeting: 'hello from A', endpointUrl: cloud.url, invocations: 1 });
  });
});
