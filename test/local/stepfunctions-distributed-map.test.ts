// A Map in DISTRIBUTED mode on the local endpoint: items read from an S3 JSON
// array (ItemReader), one child execution per item with its own history and the
// same enforced quotas, MaxConcurrency, tolerated failures, and the results
// written to S3 (ResultWriter) as AWS writes them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, ListObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalAws } from '../../local/aws/server.js';
import { registerStatesRole, STATES_ROLE } from './support/states-role.js';
import { registerFunction } from '../../local/aws/services/lambda/registry.js';

const ROLE = STATES_ROLE;
const BUCKET = 'certpipe-fanout-test';
const doubler = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lambdas/doubler.ts');
const sleeper = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lambdas/sleeper.ts');
const credentials = { accessKeyId: '000000000000', secretAccessKey: 'test' };

let dataDir: string;
let cloud: Awaited<ReturnType<typeof startLocalAws>>;
let sfn: SFNClient;

/** The run bucket's requests as the functions make them (the SDK's S3 client, path-style), against the local S3. */
const s3Client = (creds: typeof credentials) => new S3Client({ region: 'us-east-1', endpoint: cloud.url, credentials: creds, forcePathStyle: true, maxAttempts: 1 });
async function s3(method: 'GET' | 'PUT', key: string, body?: string): Promise<string> {
  const client = s3Client(credentials);
  if (method === 'PUT' && key === '') {
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    return '';
  }
  if (method === 'PUT') {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return '';
  }
  return (await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString()) ?? '';
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'certpipe-dmap-'));
  cloud = await startLocalAws({ port: 0, dataDir });
  await registerStatesRole(cloud.url);
  sfn = new SFNClient({ endpoint: cloud.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  await registerFunction(cloud.url, { functionName: 'fixture-Doubler', entry: doubler, timeoutSeconds: 30 });
  await registerFunction(cloud.url, { functionName: 'fixture-Sleeper', entry: sleeper, timeoutSeconds: 30 });
  await s3('PUT', '');
}, 120_000);

afterAll(async () => {
  await cloud?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  delete process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS;
});

const DOUBLE = {
  StartAt: 'Odd',
  States: {
    // Item 3 fails its child execution: a failure the Map must tolerate (or not).
    Odd: { Type: 'Choice', Choices: [{ Variable: '$.value', NumericEquals: 3, Next: 'Refuse' }], Default: 'Double' },
    Refuse: { Type: 'Fail', Error: 'ItemRefused', Cause: 'three is refused' },
    Double: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:fixture-Doubler', End: true },
  },
};

function distributed(opts: { tolerated: number; maxConcurrency?: number; reader?: boolean }) {
  return JSON.stringify({
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ...(opts.reader === false
          ? { ItemsPath: '$.items' }
          : { ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Bucket.$': '$.bucket', 'Key.$': '$.key' } } }),
        MaxConcurrency: opts.maxConcurrency ?? 3,
        ToleratedFailurePercentage: opts.tolerated,
        ItemSelector: { 'value.$': '$$.Map.Item.Value', 'run.$': '$$.Execution.Name' },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...DOUBLE },
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, Prefix: 'results' } },
        ResultPath: '$.results',
        End: true,
      },
    },
  });
}

let machines = 0;
async function history(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function run(definition: string, input: unknown) {
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: `dmap-${++machines}`, definition, roleArn: ROLE }));
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  for (let i = 0; i < 1200; i++) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return { execution, events: await history(executionArn!), stateMachineArn: stateMachineArn! };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${executionArn} is still running`);
}

async function putItems(name: string, n: number) {
  const key = `due/${name}.json`;
  await s3('PUT', key, JSON.stringify(Array.from({ length: n }, (_, i) => i)));
  return { bucket: BUCKET, key };
}

const readJson = async (key: string) => JSON.parse(await s3('GET', key));

describe('a DISTRIBUTED Map on the local Step Functions', () => {
  it('runs each item of the S3 object as a child execution, tolerates the failed one, and writes the results to S3', async () => {
    const input = await putItems('eight', 8);
    const { execution, events } = await run(distributed({ tolerated: 100 }), input);

    expect(execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output!);
    expect(output.results.MapRunArn).toMatch(/^arn:aws:states:us-east-1:000000000000:mapRun:dmap-\d+\/Each:/);
    expect(output.results.ResultWriterDetails).toEqual({ Bucket: BUCKET, Key: expect.stringMatching(/^results\/[\w-]+\/manifest\.json$/) });
    // The parent records the map run, never the items' states.
    const types = events.map((e) => e.type);
    expect(types).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapRunStarted', 'MapRunSucceeded', 'MapStateSucceeded', 'MapStateExited', 'ExecutionSucceeded']);

    const manifest = await readJson(output.results.ResultWriterDetails.Key);
    expect(manifest.MapRunArn).toBe(output.results.MapRunArn);
    const succeeded = await readJson(manifest.ResultFiles.SUCCEEDED[0].Key);
    const failed = await readJson(manifest.ResultFiles.FAILED[0].Key);
    expect(succeeded.map((r: any) => JSON.parse(r.Output).doubled).sort((a: number, b: number) => a - b)).toEqual([0, 2, 4, 8, 10, 12, 14]);
    expect(failed).toEqual([expect.objectContaining({ Status: 'FAILED', Error: 'ItemRefused', Cause: 'three is refused', Input: JSON.stringify({ value: 3, run: execution.name }) })]);
    // MaxConcurrency 3 bounds the children at once (the doubler counts per parent execution).
    expect(Math.max(...succeeded.map((r: any) => JSON.parse(r.Output).concurrent))).toBeLessThanOrEqual(3);

    // Each child is a real execution with its own history, described like any other.
    const child = succeeded[0];
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: child.ExecutionArn }));
    expect(described.status).toBe('SUCCEEDED');
    const childTypes = (await history(child.ExecutionArn)).map((e) => e.type);
    expect(childTypes[0]).toBe('ExecutionStarted');
    expect(childTypes).toContain('LambdaFunctionSucceeded');
    expect(childTypes.at(-1)).toBe('ExecutionSucceeded');
  }, 60_000);

  it('fails the Map with States.ExceedToleratedFailureThreshold when no failure is tolerated, after running every item', async () => {
    const input = await putItems('strict', 5);
    const { execution, events } = await run(distributed({ tolerated: 0 }), input);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(events.map((e) => e.type)).toContain('MapRunFailed');
  }, 60_000);

  it('fails the Map with States.ItemReaderFailed when the object is missing', async () => {
    const { execution } = await run(distributed({ tolerated: 100 }), { bucket: BUCKET, key: 'due/absent.json' });
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.ItemReaderFailed');
    expect(execution.cause).toContain('NoSuchKey');
  }, 30_000);

  it('counts each child against the history quota on its own: a fan-out the inline Map cannot hold completes', async () => {
    const n = 40;
    process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS = '60';
    // Inline, the 40 items' events all land in one history: over the limit.
    const inline = await run(
      JSON.stringify({
        StartAt: 'Each',
        States: { Each: { Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 10, ItemSelector: { 'value.$': '$$.Map.Item.Value', 'run.$': '$$.Execution.Name' }, ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...DOUBLE, StartAt: 'Double' }, End: true } },
      }),
      { items: Array.from({ length: n }, (_, i) => i + 10) },
    );
    expect(inline.execution.status).toBe('FAILED');
    expect(inline.execution.cause).toContain('maximum number of history events (60)');

    const { execution, events, stateMachineArn } = await run(distributed({ tolerated: 100, maxConcurrency: 10, reader: false }), { items: Array.from({ length: n }, (_, i) => i + 10) });
    expect(execution.status).toBe('SUCCEEDED');
    expect(events.length).toBeLessThan(60);
    const manifest = await readJson(JSON.parse(execution.output!).results.ResultWriterDetails.Key);
    const succeeded = await readJson(manifest.ResultFiles.SUCCEEDED[0].Key);
    expect(succeeded).toHaveLength(n);
    for (const child of succeeded.slice(0, 5)) {
      const childEvents = await history(child.ExecutionArn);
      expect(childEvents.length).toBeLessThan(60);
    }
    // As in AWS, ListExecutions without a map run shows the parent only.
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(listed.executions?.map((e) => e.executionArn)).toEqual([execution.executionArn]);
  }, 90_000);

  it('stops the running children when the parent is stopped, and lists them by map run', async () => {
    const definition = JSON.stringify({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 2,
          ItemSelector: { 'ms.$': '$$.Map.Item.Value' },
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'Sleep', States: { Sleep: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:fixture-Sleeper', End: true } } },
          End: true,
        },
      },
    });
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: `dmap-${++machines}`, definition, roleArn: ROLE }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ items: [20_000, 20_000, 20_000] }) }));
    let mapRunArn: string | undefined;
    for (let i = 0; i < 200 && !mapRunArn; i++) {
      mapRunArn = (await history(executionArn!)).find((e) => e.mapRunStartedEventDetails)?.mapRunStartedEventDetails?.mapRunArn;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let running: string[] = [];
    for (let i = 0; i < 200 && running.length < 2; i++) {
      running = ((await sfn.send(new ListExecutionsCommand({ mapRunArn }))).executions ?? []).map((e) => e.executionArn!);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(running).toHaveLength(2);
    await sfn.send(new StopExecutionCommand({ executionArn }));
    for (const arn of running) {
      let status: string | undefined;
      for (let i = 0; i < 100 && status !== 'ABORTED'; i++) {
        status = (await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe('ABORTED');
    }
    // The third item never started: MaxConcurrency 2, then the stop.
    expect((await sfn.send(new ListExecutionsCommand({ mapRunArn }))).executions).toHaveLength(2);
  }, 60_000);

  it('the local S3 answers as S3 does: NoSuchKey for a missing key, AccessDenied to another account, 405 for what it does not serve', async () => {
    await expect(s3('GET', 'due/never-written.json')).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    const other = s3Client({ accessKeyId: '111111111111', secretAccessKey: 'test' } as typeof credentials);
    await expect(other.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'due/eight.json' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    // ListObjects (v1): a GET on the bucket without list-type=2.
    const listed = await s3Client(credentials).send(new ListObjectsCommand({ Bucket: BUCKET })).catch((err: Error) => err.name);
    // A GET on the bucket without list-type=2 is not an operation the local S3 serves.
    expect(listed).toBe('MethodNotAllowed');
  });
});
