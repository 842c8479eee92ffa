// The local EventBridge and CloudWatch through the real SDK clients: PutEvents
// with per-entry validation, PutMetricData with AWS's checks (errors through the
// awsQueryCompatible mapping), ListMetrics/GetMetricData, the read-back routes,
// and persistence across a restart.
import fs from 'node:fs';
import os from 'node:os';
import {
  CloudWatchClient,
  CloudWatchServiceException,
  GetMetricDataCommand,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  ListMetricsCommand,
  MissingRequiredParameterException,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';

const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '444444444444';

const dataDir = fs.mkdtempSync(os.tmpdir() + '/certpipe-');
let server: LocalAws;

const config = (accountId = ACCOUNT, region = 'us-east-1') => ({
  endpoint: server.url,
  region,
  credentials: { accessKeyId: accountId, secretAccessKey: 'test' },
  maxAttempts: 1,
});

interface EventEnvelope {
  id: string;
  source: string;
  'detail-type': string;
  account: string;
  region: string;
  time: string;
  resources: string[];
  detail: Record<string, unknown>;
  eventBusName: string;
}

async function readEvents(query: Record<string, string>): Promise<EventEnvelope[]> {
  const res = await fetch(`${server.url}/_certpipe/events?${new URLSearchParams(query)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: EventEnvelope[] }).events;
}

async function readMetrics(query: Record<string, string>): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${server.url}/_certpipe/metrics?${new URLSearchParams(query)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { datapoints: Record<string, unknown>[] }).datapoints;
}

beforeAll(async () => {
  server = await startLocalAws({ port: 0, dataDir });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('EventBridge PutEvents', () => {
  it('stores accepted events in the envelope targets receive, readable by source and detail type', async () => {
    const events = new EventBridgeClient(config());
    const detail = { certificate: 'shop', notAfter: '2030-01-01T00:00:00Z' };
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'certpipe',
            DetailType: 'Certificate Renewed',
            Detail: JSON.stringify(detail),
            Resources: ['arn:aws:secretsmanager:us-east-1:000000000000:secret:certpipe/shop-AbCdEf'],
          },
          { Source: 'certpipe', DetailType: 'Certificate Skipped', Detail: '{}', EventBusName: 'ops' },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    expect(put.Entries).toHaveLength(2);
    expect(put.Entries![0]!.EventId).toMatch(/^[0-9a-f-]{36}$/);

    const renewed = await readEvents({ source: 'certpipe', detailType: 'Certificate Renewed' });
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatchObject({
      id: put.Entries![0]!.EventId,
      source: 'certpipe',
      'detail-type': 'Certificate Renewed',
      account: ACCOUNT,
      region: 'us-east-1',
      detail,
      eventBusName: 'default',
      resources: ['arn:aws:secretsmanager:us-east-1:000000000000:secret:certpipe/shop-AbCdEf'],
    });
    expect(renewed[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await readEvents({ detailType: 'Certificate Skipped' }))[0]!.eventBusName).toBe('ops');
  });

  it('reports invalid entries one by one and stores only the valid ones', async () => {
    const events = new EventBridgeClient(config(OTHER_ACCOUNT, 'eu-central-1'));
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'certpipe.test', DetailType: 'Good', Detail: '{"ok":true}', Time: new Date('2030-05-01T10:00:00Z') },
          { Source: 'certpipe.test', DetailType: 'No detail' },
          { Source: 'certpipe.test', DetailType: 'Bad detail', Detail: '{not json' },
          { Source: 'certpipe.test', DetailType: 'Array detail', Detail: '[1,2]' },
          { Source: 'aws.secretsmanager', DetailType: 'Spoofed', Detail: '{}' },
          { DetailType: 'No source', Detail: '{}' },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(5);
    expect(put.Entries!.map((e) => e.ErrorCode)).toEqual([
      undefined,
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'NotAuthorizedForSourceException',
      'InvalidArgument',
    ]);
    expect(put.Entries![1]!.ErrorMessage).toBe('Parameter Detail is not valid. Reason: Detail is a required argument.');
    const stored = await readEvents({ source: 'certpipe.test' });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ account: OTHER_ACCOUNT, region: 'eu-central-1', time: '2030-05-01T10:00:00Z' });
    expect(await readEvents({ source: 'certpipe.test', account: ACCOUNT })).toEqual([]);
  });

  it('refuses a request with more than 10 entries as a whole', async () => {
    const events = new EventBridgeClient(config());
    const entries = Array.from({ length: 11 }, () => ({ Source: 'certpipe', DetailType: 'Too many', Detail: '{}' }));
    const attempt = events.send(new PutEventsCommand({ Entries: entries }));
    await expect(attempt).rejects.toBeInstanceOf(EventBridgeServiceException);
    await expect(attempt).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await readEvents({ detailType: 'Too many' })).toEqual([]);
  });
});

describe('CloudWatch PutMetricData', () => {
  const namespace = 'Certpipe/Test';

  it('stores datapoints with dimensions, values and units', async () => {
    const cw = new CloudWatchClient(config());
    await cw.send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: [
          { MetricName: 'DaysToExpiry', Dimensions: [{ Name: 'Certificate', Value: 'shop' }], Value: 42, Unit: 'Count' },
          { MetricName: 'RenewalSeconds', Values: [1.5, 3], Counts: [2, 1], Unit: 'Seconds' },
          { MetricName: 'Renewals', StatisticValues: { SampleCount: 3, Sum: 3, Minimum: 1, Maximum: 1 } },
        ],
      }),
    );
    const datapoints = await readMetrics({ namespace });
    expect(datapoints).toHaveLength(3);
    expect(datapoints[0]).toMatchObject({
      account: ACCOUNT,
      region: 'us-east-1',
      namespace,
      metricName: 'DaysToExpiry',
      dimensions: [{ Name: 'Certificate', Value: 'shop' }],
      value: 42,
      unit: 'Count',
    });
    expect(datapoints[1]).toMatchObject({ values: [1.5, 3], counts: [2, 1] });
    expect(await readMetrics({ namespace, metricName: 'Renewals' })).toHaveLength(1);
  });

  it('refuses what CloudWatch refuses, with the SDK exception classes', async () => {
    const cw = new CloudWatchClient(config());
    const put = (input: ConstructorParameters<typeof PutMetricDataCommand>[0]) => cw.send(new PutMetricDataCommand(input));

    await expect(put({ Namespace: 'AWS/EC2', MetricData: [{ MetricName: 'm', Value: 1 }] })).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    await expect(put({ Namespace: namespace, MetricData: [{ MetricName: 'm', Value: 1, Values: [1] }] })).rejects.toBeInstanceOf(
      InvalidParameterCombinationException,
    );
    await expect(put({ Namespace: namespace, MetricData: [{ Value: 1 } as never] })).rejects.toBeInstanceOf(
      MissingRequiredParameterException,
    );
    await expect(put({ Namespace: namespace, MetricData: [{ MetricName: 'm', Values: [1, 2], Counts: [1] }] })).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    await expect(put({ Namespace: namespace, MetricData: [{ MetricName: 'm', Value: Number.NaN }] })).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    await expect(put({ Namespace: namespace, MetricData: [{ MetricName: 'm', Value: 1, Unit: 'Furlongs' as never }] })).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    const old = new Date(Date.now() - 15 * 86_400_000);
    await expect(put({ Namespace: namespace, MetricData: [{ MetricName: 'm', Value: 1, Timestamp: old }] })).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    const attempt = put({ Namespace: namespace, MetricData: [{ MetricName: 'm', Value: 1, Values: [1] }] });
    // The Query-era code survives the JSON protocol, as awsQueryCompatible promises.
    await expect(attempt).rejects.toMatchObject({ Code: 'InvalidParameterCombination', $metadata: { httpStatusCode: 400 } });
    await expect(attempt).rejects.toBeInstanceOf(CloudWatchServiceException);
    expect(await readMetrics({ namespace, metricName: 'm' })).toEqual([]);
  });

  it('lists metrics and answers GetMetricData with per-period statistics', async () => {
    const cw = new CloudWatchClient(config(OTHER_ACCOUNT));
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
    const dims = [{ Name: 'Certificate', Value: 'api' }];
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Certpipe/Stats',
        MetricData: [
          { MetricName: 'Latency', Dimensions: dims, Value: 10, Timestamp: at },
          { MetricName: 'Latency', Dimensions: dims, Values: [20, 30], Counts: [1, 2], Timestamp: at },
          { MetricName: 'Latency', Dimensions: [{ Name: 'Certificate', Value: 'other' }], Value: 1000, Timestamp: at },
        ],
      }),
    );

    const listed = await cw.send(new ListMetricsCommand({ Namespace: 'Certpipe/Stats' }));
    expect(listed.Metrics).toHaveLength(2);
    const filtered = await cw.send(new ListMetricsCommand({ Namespace: 'Certpipe/Stats', Dimensions: [{ Name: 'Certificate', Value: 'api' }] }));
    expect(filtered.Metrics).toEqual([{ Namespace: 'Certpipe/Stats', MetricName: 'Latency', Dimensions: dims }]);
    expect((await new CloudWatchClient(config()).send(new ListMetricsCommand({ Namespace: 'Certpipe/Stats' }))).Metrics).toEqual([]);

    const metric = { Namespace: 'Certpipe/Stats', MetricName: 'Latency', Dimensions: dims };
    const data = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(at.getTime() - 600_000),
        EndTime: new Date(at.getTime() + 600_000),
        MetricDataQueries: ['Sum', 'Average', 'Maximum', 'SampleCount'].map((Stat) => ({
          Id: Stat.toLowerCase(),
          MetricStat: { Metric: metric, Period: 60, Stat },
        })),
      }),
    );
    const byId = Object.fromEntries(data.MetricDataResults!.map((r) => [r.Id, r]));
    expect(byId.sum!.Values).toEqual([90]);
    expect(byId.average!.Values).toEqual([22.5]);
    expect(byId.maximum!.Values).toEqual([30]);
    expect(byId.samplecount!.Values).toEqual([4]);
    expect(byId.sum!.Timestamps).toEqual([at]);
    expect(byId.sum!.StatusCode).toBe('Complete');
  });
});

describe('persistence', () => {
  it('keeps events and datapoints across a restart', async () => {
    await new EventBridgeClient(config()).send(
      new PutEventsCommand({ Entries: [{ Source: 'certpipe.durable', DetailType: 'Kept', Detail: '{"n":1}' }] }),
    );
    await new CloudWatchClient(config()).send(
      new PutMetricDataCommand({ Namespace: 'Certpipe/Durable', MetricData: [{ MetricName: 'Kept', Value: 7 }] }),
    );
    await server.close();
    server = await startLocalAws({ port: 0, dataDir });

    expect(await readEvents({ source: 'certpipe.durable' })).toMatchObject([{ detail: { n: 1 } }]);
    expect(await readMetrics({ namespace: 'Certpipe/Durable' })).toMatchObject([{ metricName: 'Kept', value: 7 }]);

    const cleared = await fetch(`${server.url}/_certpipe/events`, { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    expect(await readEvents({})).toEqual([]);
    const clearedMetrics = await fetch(`${server.url}/_certpipe/metrics`, { method: 'DELETE' });
    expect(((await clearedMetrics.json()) as { deleted: number }).deleted).toBeGreaterThan(0);
    expect(await readMetrics({})).toEqual([]);
  });
});
