// The stack's alarms, as synthesized, evaluated against what a real run makes:
// the functions' EMF (through their logs), Lambda's and Step Functions' own
// metrics. A healthy run leaves every alarm OK but MinDaysToExpiry, which the
// README documents as ALARM until a run has reported expiry data (the first run
// finds no certificate to report on); the next run clears it. A run with the CA
// unreachable pages: ExecutionsFailed and AcmeErrorRate go to ALARM and their
// notifications reach the alarm topic.
import { CloudWatchClient, GetMetricDataCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../bin/cli.js';
import { startTestCloud, freePort, type TestCloud } from '../support/cloud.js';
import { deployedAlarms, evaluateAlarms, snsMessages, type TemplateAlarms } from '../support/template-alarms.js';
import { deployTestPipeline, exampleConfig, type TestPipeline } from './pipeline.js';

const states = (alarms: Record<string, { state: string }>, names: Record<string, string>) =>
  Object.fromEntries(Object.entries(names).map(([id, name]) => [id, alarms[name]?.state]));

const ALL_OK = {
  ExecutionsFailed: 'OK',
  ExecutionsTimedOut: 'OK',
  ExecutionsThrottled: 'OK',
  MinDaysToExpiry: 'OK',
  AcmeErrorRate: 'OK',
  LambdaErrors: 'OK',
  SchedulerDlqNotEmpty: 'OK',
};

describe('alarms after a healthy run of the example config', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let alarms: TemplateAlarms;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(cloud, exampleConfig(cloud));
    alarms = deployedAlarms(pipeline.deployment);
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('are all OK but MinDaysToExpiry, which pages until a run reports expiry data', async () => {
    expect(Object.keys(alarms.names).sort()).toEqual(Object.keys(ALL_OK).sort());
    const first = await pipeline.run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    const after = await evaluateAlarms(cloud);
    expect(states(after, alarms.names)).toEqual({ ...ALL_OK, MinDaysToExpiry: 'ALARM' });
    expect(after[alarms.names.MinDaysToExpiry!]!.reason).toContain('missing');
    // The healthy run was seen, not merely absent: its functions ran without error and its ACME requests were counted.
    expect(after[alarms.names.LambdaErrors!]!.reason).toContain('[0]');
    expect(after[alarms.names.AcmeErrorRate!]!.reason).toContain('[0]');
    // The functions' EMF reads back through the CloudWatch API, as from CloudWatch Logs' extraction in AWS.
    const cw = new CloudWatchClient(cloud.sdkConfig());
    const created = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(Date.now() - 3_600_000),
        EndTime: new Date(Date.now() + 60_000),
        MetricDataQueries: [
          { Id: 'created', MetricStat: { Metric: { Namespace: 'Certpipe', MetricName: 'AcmeRequests', Dimensions: [{ Name: 'service', Value: 'certpipe' }, { Name: 'Status', Value: '201' }] }, Period: 3600, Stat: 'Sum' } },
        ],
      }),
    );
    expect(created.MetricDataResults![0]!.Values!.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // LambdaErrors reads the functions that ran: every function its math names was invoked (not a [0] of nothing).
    const lambdaErrors = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [alarms.names.LambdaErrors!] }))).MetricAlarms![0]!;
    const functionNames = (lambdaErrors.Metrics ?? []).flatMap((m) => m.MetricStat?.Metric?.Dimensions?.filter((d) => d.Name === 'FunctionName').map((d) => d.Value!) ?? []);
    expect(functionNames).toHaveLength(7);
    const invoked = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(Date.now() - 3_600_000),
        EndTime: new Date(Date.now() + 60_000),
        MetricDataQueries: functionNames.map((name, i) => ({
          Id: `f${i}`,
          MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: name }] }, Period: 3600, Stat: 'Sum' },
        })),
      }),
    );
    const invocations = Object.fromEntries(invoked.MetricDataResults!.map((r, i) => [functionNames[i]!, r.Values!.reduce((a, b) => a + b, 0)]));
    // Summarize runs only when something was due: the first run renews all four, so all seven ran.
    for (const [name, count] of Object.entries(invocations)) expect(count, name).toBeGreaterThan(0);
  }, 600_000);

  it('all OK once the next run reports the soonest expiry, with the recovery published to the topic', async () => {
    const second = await pipeline.run();
    expect(second.status, `${second.error}: ${second.cause}`).toBe('SUCCEEDED');
    expect(states(await evaluateAlarms(cloud), alarms.names)).toEqual(ALL_OK);
    // `certpipe status --local` shows them: a section under the table, and in --json.
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, isTTY: false, env: { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir, AWS_ENDPOINT_URL: '' } };
    expect(await cli(['status', '--local', '--json'], io)).toBe(0);
    const doc = JSON.parse(out) as { alarms: { name: string; state: string }[] };
    expect(Object.fromEntries(doc.alarms.map((a) => [a.name, a.state]))).toEqual(Object.fromEntries(Object.values(alarms.names).map((n) => [n, 'OK'])));
    out = '';
    expect(await cli(['status', '--local'], io)).toBe(0);
    expect(out).toMatch(new RegExp(`\\nalarms\\n(  OK +Certpipe-\\S+\\n){7}`));

    const recovered = (await snsMessages(cloud, alarms.topicArn)).map((m) => JSON.parse(m.message)).filter((m) => m.AlarmName === alarms.names.MinDaysToExpiry);
    expect(recovered.at(-1)).toMatchObject({ NewStateValue: 'OK', OldStateValue: 'ALARM' });
  }, 600_000);
});

describe('alarms after a run with the CA unreachable', () => {
  let cloud: TestCloud;
  let alarms: TemplateAlarms;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('drives ExecutionsFailed and AcmeErrorRate to ALARM and publishes both to the alarm topic', async () => {
    const closedPort = await freePort();
    const config = exampleConfig(cloud, (doc) => {
      doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'web');
      doc.issuers[0].directoryUrl = `https://127.0.0.1:${closedPort}/dir`;
    });
    const pipeline = await deployTestPipeline(cloud, config);
    alarms = deployedAlarms(pipeline.deployment);
    const before = await evaluateAlarms(cloud);
    expect(before[alarms.names.ExecutionsFailed!]!.state).toBe('OK');

    const done = await pipeline.run();
    expect(done.status).toBe('FAILED');
    const after = await evaluateAlarms(cloud);
    expect(after[alarms.names.ExecutionsFailed!]!.state).toBe('ALARM');
    expect(after[alarms.names.AcmeErrorRate!]!.state).toBe('ALARM');
    expect(after[alarms.names.AcmeErrorRate!]!.reason).toContain('[100]');

    const pages = (await snsMessages(cloud, alarms.topicArn)).filter((m) => m.subject?.startsWith('ALARM:'));
    const paged = pages.map((m) => JSON.parse(m.message) as { AlarmName: string; NewStateValue: string; OldStateValue: string });
    expect(paged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ AlarmName: alarms.names.ExecutionsFailed, NewStateValue: 'ALARM', OldStateValue: 'OK' }),
        expect.objectContaining({ AlarmName: alarms.names.AcmeErrorRate, NewStateValue: 'ALARM', OldStateValue: 'OK' }),
      ]),
    );

    // Ten minutes on, with no new failure, ExecutionsFailed recovers (its 5-minute period holds no data, not breaching).
    const later = await evaluateAlarms(cloud, new Date(Date.now() + 10 * 60_000));
    expect(later[alarms.names.ExecutionsFailed!]!.state).toBe('OK');
  }, 600_000);

  it('a certificate whose own execution outgrows the history limit fails on it, named, and the run pages', async () => {
    // RenewEach is a Distributed Map: each certificate's ~59 events are its own child execution's, the
    // parent keeps ~23 whatever the fleet. A limit of 40 lets the parent finish and stops every child.
    process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS = '40';
    try {
      const pipeline = await deployTestPipeline(cloud, exampleConfig(cloud));
      const done = await pipeline.run({ force: true });
      expect(done.status).toBe('FAILED');
      expect(done.error).toBe('CertificatesFailed');
      const summary = done.history.find((e) => e.stateExitedEventDetails?.name === 'Summarize');
      const results = (JSON.parse(summary!.stateExitedEventDetails!.output!) as { results: { name: string; outcome: string; error?: string; cause?: string }[] }).results;
      expect(results.map((r) => r.name).sort()).toEqual(['cdn', 'partner', 'shop', 'web']);
      for (const r of results) expect(r).toMatchObject({ outcome: 'failed', error: 'States.Runtime', cause: 'The execution reached the maximum number of history events (40).' });
      const after = await evaluateAlarms(cloud);
      expect(after[alarms.names.ExecutionsFailed!]!.state).toBe('ALARM');
    } finally {
      delete process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS;
    }
  }, 600_000);
});
