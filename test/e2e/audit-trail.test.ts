// The audit trail end to end: a start as the deployed schedule makes it (its
// Input read from the template, as EventBridge Scheduler would send it), then
// `certpipe renew --force` and `certpipe rollback` through the CLI. Each
// Certificate Renewed / Rolled Back event and `certpipe history` name who
// started the change (the schedule, the CLI caller's ARN from STS) and why.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIO } from '../../bin/cli.js';
import { PIPELINE_STACK_ID } from '../../infra/app.js';
import { LOCAL_ACCOUNT_ID } from '../../bin/local-cloud.js';
import { readDeployedStack } from '../../local/cfn/deploy-stack.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployTestPipeline, exampleConfig, storedEvents, type TestPipeline } from './pipeline.js';

describe('audit trail', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let env: NodeJS.ProcessEnv;
  let cliCaller: string;

  async function cli(argv: string[], extra: Partial<CliIO> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, isTTY: false, env, ...extra });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    env = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    pipeline = await deployTestPipeline(cloud, exampleConfig(cloud, (doc) => {
      doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'cdn');
    }));
    // Who the CLI is, asked independently with the credentials the CLI uses on a local cloud.
    const sts = new STSClient({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: LOCAL_ACCOUNT_ID, secretAccessKey: 'local' } });
    cliCaller = (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
  }, 240_000);
  afterAll(() => cloud?.close());

  it('a start with the schedule\'s own input records the schedule in the Certificate Renewed event', async () => {
    const stack = readDeployedStack(cloud.dataDir, PIPELINE_STACK_ID)!;
    const schedule = Object.values(stack.resources).find((r) => r.type === 'AWS::Scheduler::Schedule')!;
    const input = JSON.parse(String((schedule.properties.Target as { Input: string }).Input));
    const finished = await pipeline.run(input);
    expect(finished.status, `${finished.error}: ${finished.cause}`).toBe('SUCCEEDED');
    const [renewed] = await storedEvents(cloud, 'Certificate Renewed');
    expect(renewed!.detail).toMatchObject({ certificate: 'cdn', startedBy: 'schedule', why: 'scheduled expiry check' });
  }, 180_000);

  it('renew --force through the CLI records the caller\'s ARN and the command, in the event and in history', async () => {
    expect(cliCaller).toMatch(/^arn:aws:(iam|sts)::\d{12}:/);
    const renewed = await cli(['renew', 'cdn', '--force', '--wait', '--poll-ms', '250']);
    expect(renewed.code, renewed.stdout + renewed.stderr).toBe(0);
    const events = await storedEvents(cloud, 'Certificate Renewed');
    expect(events).toHaveLength(2);
    expect(events[1]!.detail).toMatchObject({ certificate: 'cdn', startedBy: cliCaller, why: 'certpipe renew cdn --force' });

    const history = JSON.parse((await cli(['history', '--json'])).stdout);
    expect(history.executions.map((e: { startedBy: string; why: string }) => [e.startedBy, e.why])).toEqual([
      [cliCaller, 'certpipe renew cdn --force'],
      ['schedule', 'scheduled expiry check'],
    ]);
    const table = await cli(['history', '--wide']);
    expect(table.stdout).toContain(cliCaller);
    expect(table.stdout).toContain('schedule');
  }, 180_000);

  it('rollback through the CLI records the caller and the reason given with --why', async () => {
    const rolledBack = await cli(['rollback', 'cdn', '--yes', '--why', 'INC-42: new chain breaks old clients']);
    expect(rolledBack.code, rolledBack.stdout + rolledBack.stderr).toBe(0);
    const [event] = await storedEvents(cloud, 'Certificate Rolled Back');
    expect(event!.detail).toMatchObject({ certificate: 'cdn', reason: 'Rollback', startedBy: cliCaller, why: 'INC-42: new chain breaks old clients' });
  }, 120_000);
});
