// Step Functions' quotas on the local endpoint: the history-event limit, the
// payload limit and the execution's TimeoutSeconds end an execution as AWS ends
// it, and each outcome is published as an AWS/States metric. The knobs lower the
// limits so a test reaches them in seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws } from '../../local/aws/server.js';
import { registerStatesRole, STATES_ROLE } from './support/states-role.js';
import { registerFunction } from '../../local/aws/services/lambda/registry.js';

const ROLE = STATES_ROLE;
const doubler = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lambdas/doubler.ts');

let dataDir: string;
let cloud: Awaited<ReturnType<typeof startLocalAws>>;
let sfn: SFNClient;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'certpipe-quotas-'));
  cloud = await startLocalAws({ port: 0, dataDir });
  await registerStatesRole(cloud.url);
  sfn = new SFNClient({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: '000000000000', secretAccessKey: 'test' }, maxAttempts: 1 });
  await registerFunction(cloud.url, { functionName: 'fixture-Doubler', entry: doubler, timeoutSeconds: 30 });
}, 120_000);

afterAll(async () => {
  await cloud?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  delete process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS;
  delete process.env.CERTPIPE_SFN_MAX_PAYLOAD_BYTES;
});

/** Doubles each item of `$.items` in an inline Map, as RenewEach renews each due certificate. */
const mapDefinition = JSON.stringify({
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 4,
      ItemSelector: { 'value.$': '$$.Map.Item.Value', 'run.$': '$$.Execution.Name' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Double',
        States: { Double: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:fixture-Doubler', End: true } },
      },
      End: true,
    },
  },
});

let machines = 0;
async function run(definition: string, input: unknown) {
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: `quota-${++machines}`, definition, roleArn: ROLE }));
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  for (let i = 0; i < 600; i++) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') {
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return { execution, events, stateMachineArn: stateMachineArn! };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${executionArn} is still running`);
}

const items = (n: number) => ({ items: Array.from({ length: n }, (_, i) => i) });

/** Sum of an AWS/States metric for one state machine, from the raw datapoints. */
async function statesMetric(metricName: string, stateMachineArn: string): Promise<number> {
  const res = await fetch(`${cloud.url}/_certpipe/metrics?namespace=AWS/States&metricName=${metricName}`);
  const { datapoints } = (await res.json()) as { datapoints: { dimensions: { Name: string; Value: string }[]; value: number }[] };
  return datapoints.filter((d) => d.dimensions.some((x) => x.Name === 'StateMachineArn' && x.Value === stateMachineArn)).reduce((sum, d) => sum + d.value, 0);
}

describe('the history-event quota', () => {
  it('fails an inline Map with more items than the history holds; the last event is ExecutionFailed, at the limit exactly', async () => {
    process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS = '80';
    const { execution, events, stateMachineArn } = await run(mapDefinition, items(30));
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Runtime');
    expect(execution.cause).toBe('The execution reached the maximum number of history events (80).');
    expect(events).toHaveLength(80);
    expect(events.at(-1)!.type).toBe('ExecutionFailed');
    expect(await statesMetric('ExecutionsFailed', stateMachineArn)).toBe(1);
    expect(await statesMetric('ExecutionsStarted', stateMachineArn)).toBe(1);
  }, 60_000);

  it('lets the same Map with few items through under the same limit', async () => {
    process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS = '80';
    const { execution, events, stateMachineArn } = await run(mapDefinition, items(3));
    expect(execution.status).toBe('SUCCEEDED');
    expect(events.length).toBeLessThan(80);
    expect(await statesMetric('ExecutionsSucceeded', stateMachineArn)).toBe(1);
    expect(await statesMetric('ExecutionsFailed', stateMachineArn)).toBe(0);
  }, 60_000);
});

describe('the payload quota', () => {
  it('fails with States.DataLimitExceeded when a state output passes the limit, naming the state', async () => {
    process.env.CERTPIPE_SFN_MAX_PAYLOAD_BYTES = '400';
    // 20 results of about 25 bytes each: the Map's output (about 500 bytes) is over, every item's is far under.
    const { execution } = await run(mapDefinition, items(20));
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toMatch(/^The output of state 'Each' has a size of \d+ bytes, which exceeds the maximum of 400 bytes\.$/);
  }, 60_000);

  it('fails with States.DataLimitExceeded when a task result passes the limit, whatever the Catch says', async () => {
    process.env.CERTPIPE_SFN_MAX_PAYLOAD_BYTES = '60';
    const definition = JSON.stringify({
      StartAt: 'Double',
      States: {
        Double: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'fixture-Doubler', Payload: { value: 1, run: 'x' } },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Succeed' },
      },
    });
    const { execution, events } = await run(definition, {});
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.DataLimitExceeded');
    expect(execution.cause).toMatch(/^The result of state 'Double' has a size of \d+ bytes/);
    expect(events.map((e) => e.type)).toContain('TaskFailed');
  }, 60_000);

  it('is AWS\'s 256 KiB without the knob: the same execution succeeds', async () => {
    const { execution } = await run(mapDefinition, items(20));
    expect(execution.status).toBe('SUCCEEDED');
  }, 60_000);
});

describe('the execution timeout', () => {
  it('ends an execution past its TimeoutSeconds as TIMED_OUT with States.Timeout, and counts it in ExecutionsTimedOut', async () => {
    const definition = JSON.stringify({ TimeoutSeconds: 1, StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 30, End: true } } });
    const started = Date.now();
    const { execution, events, stateMachineArn } = await run(definition, {});
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(execution.status).toBe('TIMED_OUT');
    expect(execution.error).toBe('States.Timeout');
    expect(events.at(-1)!.type).toBe('ExecutionTimedOut');
    expect(await statesMetric('ExecutionsTimedOut', stateMachineArn)).toBe(1);
  }, 60_000);
});
