// CloudWatch alarm evaluation as a pure function of the alarm, the datapoints and
// a fixed clock: period boundaries, statistics, DatapointsToAlarm, every
// TreatMissingData, the metric math the stack's alarms use, and EMF extraction.
import { describe, expect, it } from 'vitest';
import { evaluateAlarm, type AlarmRule, type AlarmState } from '../../local/aws/services/cloudwatch/alarm-evaluation.js';
import type { StoredDatapoint } from '../../local/aws/services/cloudwatch/datapoints.js';
import { datapointsFromEmf } from '../../local/aws/services/cloudwatch/emf.js';
import { evaluateExpression, MetricMathError, parseExpression } from '../../local/aws/services/cloudwatch/metric-math.js';

const NOW = new Date('2026-11-29T10:07:30Z');
const SM = [{ Name: 'StateMachineArn', Value: 'arn:aws:states:us-east-1:000000000000:stateMachine:certpipe' }];

const point = (at: string, value: number, over: Partial<StoredDatapoint> = {}): StoredDatapoint => ({
  account: '000000000000',
  region: 'us-east-1',
  namespace: 'AWS/States',
  metricName: 'ExecutionsFailed',
  dimensions: SM,
  timestamp: new Date(at).toISOString(),
  unit: 'Count',
  value,
  storageResolution: 60,
  ...over,
});

const failedAlarm = (over: Partial<AlarmRule> = {}): AlarmRule => ({
  queries: [{ id: 'm1', returnData: true, metricStat: { namespace: 'AWS/States', metricName: 'ExecutionsFailed', dimensions: SM, period: 300, stat: 'Sum' } }],
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  ...over,
});

describe('a single-metric alarm', () => {
  it.each<[string, AlarmRule, StoredDatapoint[], AlarmState, AlarmState]>([
    ['a failure in the current period breaches', failedAlarm(), [point('2026-11-29T10:05:00Z', 1)], 'OK', 'ALARM'],
    ['a failure in the period before is outside a one-period range', failedAlarm(), [point('2026-11-29T10:04:59Z', 1)], 'ALARM', 'OK'],
    ['a datapoint after now is not seen yet', failedAlarm(), [point('2026-11-29T10:08:00Z', 1)], 'OK', 'OK'],
    ['zeros summed stay under the threshold', failedAlarm(), [point('2026-11-29T10:05:00Z', 0), point('2026-11-29T10:06:00Z', 0)], 'ALARM', 'OK'],
    ['another state machine\'s failure is not this alarm\'s', failedAlarm(), [point('2026-11-29T10:05:00Z', 1, { dimensions: [{ Name: 'StateMachineArn', Value: 'other' }] })], 'OK', 'OK'],
    ['missing data, notBreaching: OK', failedAlarm(), [], 'INSUFFICIENT_DATA', 'OK'],
    ['missing data, breaching: ALARM', failedAlarm({ treatMissingData: 'breaching' }), [], 'OK', 'ALARM'],
    ['missing data, missing: INSUFFICIENT_DATA', failedAlarm({ treatMissingData: 'missing' }), [], 'OK', 'INSUFFICIENT_DATA'],
    ['missing data, ignore: the state is kept', failedAlarm({ treatMissingData: 'ignore' }), [], 'ALARM', 'ALARM'],
    [
      '2 of 3 periods must breach: one is not enough',
      failedAlarm({ evaluationPeriods: 3, datapointsToAlarm: 2 }),
      [point('2026-11-29T09:55:00Z', 1), point('2026-11-29T10:00:00Z', 0), point('2026-11-29T10:05:00Z', 0)],
      'OK',
      'OK',
    ],
    [
      '2 of 3 periods breaching: ALARM',
      failedAlarm({ evaluationPeriods: 3, datapointsToAlarm: 2 }),
      [point('2026-11-29T09:55:00Z', 1), point('2026-11-29T10:00:00Z', 0), point('2026-11-29T10:05:00Z', 2)],
      'OK',
      'ALARM',
    ],
  ])('%s', (_name, rule, points, before, after) => {
    expect(evaluateAlarm(rule, points, NOW, before).state).toBe(after);
  });

  it('takes the statistic over the period: Minimum of a day for MinDaysToExpiry', () => {
    const rule: AlarmRule = {
      queries: [{ id: 'm1', returnData: true, metricStat: { namespace: 'Certpipe', metricName: 'MinDaysToExpiry', dimensions: [{ Name: 'service', Value: 'certpipe' }], period: 86_400, stat: 'Minimum' } }],
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 14,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    };
    const day = (at: string, value: number) => point(at, value, { namespace: 'Certpipe', metricName: 'MinDaysToExpiry', dimensions: [{ Name: 'service', Value: 'certpipe' }] });
    expect(evaluateAlarm(rule, [day('2026-11-29T00:00:01Z', 89.5), day('2026-11-29T09:00:00Z', 20)], NOW, 'ALARM')).toMatchObject({ state: 'OK', values: [20] });
    expect(evaluateAlarm(rule, [day('2026-11-29T09:00:00Z', 20), day('2026-11-29T10:00:00Z', 13.9)], NOW, 'OK').state).toBe('ALARM');
    // Yesterday's check does not count today: missing, and missing breaches.
    expect(evaluateAlarm(rule, [day('2026-11-28T23:59:59Z', 80)], NOW, 'OK').state).toBe('ALARM');
  });
});

describe('the AcmeErrorRate math alarm', () => {
  const acme = (status: string, at: string, value: number) =>
    point(at, value, { namespace: 'Certpipe', metricName: 'AcmeRequests', dimensions: [{ Name: 'Status', Value: status }, { Name: 'service', Value: 'certpipe' }] });
  const metricOf = (id: string, status: string) => ({
    id,
    returnData: false,
    metricStat: { namespace: 'Certpipe', metricName: 'AcmeRequests', dimensions: [{ Name: 'service', Value: 'certpipe' }, { Name: 'Status', Value: status }], period: 3600, stat: 'Sum' },
  });
  const rule: AlarmRule = {
    queries: [
      { id: 'expr_1', returnData: true, expression: 'IF(((FILL(err0, 0)) + (FILL(ok0, 0) + FILL(ok1, 0))) > 0, 100 * (FILL(err0, 0)) / ((FILL(err0, 0)) + (FILL(ok0, 0) + FILL(ok1, 0))), 0)', period: 3600 },
      metricOf('err0', 'error'),
      metricOf('ok0', '200'),
      metricOf('ok1', '201'),
    ],
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 25,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  };

  it.each<[string, StoredDatapoint[], number, AlarmState]>([
    ['no requests at all: 0 %, OK', [], 0, 'OK'],
    ['only successes: 0 %', [acme('200', '2026-11-29T10:01:00Z', 9), acme('201', '2026-11-29T10:02:00Z', 3)], 0, 'OK'],
    ['1 failure in 4: 25 %, not over', [acme('error', '2026-11-29T10:01:00Z', 1), acme('200', '2026-11-29T10:02:00Z', 3)], 25, 'OK'],
    ['only failures (the CA down): 100 %', [acme('error', '2026-11-29T10:01:00Z', 6)], 100, 'ALARM'],
    ['failures in the hour before do not count', [acme('error', '2026-11-29T09:59:59Z', 6)], 0, 'OK'],
  ])('%s', (_name, points, percent, state) => {
    expect(evaluateAlarm(rule, points, NOW, 'INSUFFICIENT_DATA')).toMatchObject({ state, values: [percent] });
  });
});

describe('metric math', () => {
  const series = new Map([
    ['a', [1, undefined, 3]],
    ['b', [2, 2, undefined]],
  ]);
  it.each<[string, (number | undefined)[]]>([
    ['a + b', [3, undefined, undefined]],
    ['FILL(a, 0) + FILL(b, 0)', [3, 2, 3]],
    ['2 * FILL(a, 10) - 1', [1, 19, 5]],
    ['FILL(a, 0) / FILL(b, 0)', [0.5, 0, undefined]],
    ['IF(FILL(a, 0) > 1, 100, -1)', [-1, -1, 100]],
    ['7', [7, 7, 7]],
  ])('%s', (expression, expected) => {
    expect(evaluateExpression(parseExpression(expression), series, 3)).toEqual(expected);
  });

  it.each(['SEARCH(\'{Certpipe}\', \'Sum\', 300)', 'METRICS()', 'a +', 'a ^ 2', 'FILL(a)'])('refuses what it cannot evaluate faithfully: %s', (expression) => {
    expect(() => parseExpression(expression)).toThrow(MetricMathError);
  });
});

describe('EMF extraction', () => {
  const origin = { account: '000000000000', region: 'us-east-1' };
  it('makes one datapoint per metric and dimension set, with the record\'s time, unit and values', () => {
    const line = JSON.stringify({
      _aws: { Timestamp: Date.parse('2026-11-29T10:00:00Z'), CloudWatchMetrics: [{ Namespace: 'Certpipe', Dimensions: [['service'], ['service', 'Status']], Metrics: [{ Name: 'AcmeRequests', Unit: 'Count' }] }] },
      service: 'certpipe',
      Status: '201',
      AcmeRequests: 3,
    });
    expect(datapointsFromEmf(line, origin)).toEqual([
      expect.objectContaining({ namespace: 'Certpipe', metricName: 'AcmeRequests', dimensions: [{ Name: 'service', Value: 'certpipe' }], value: 3, unit: 'Count', timestamp: '2026-11-29T10:00:00.000Z' }),
      expect.objectContaining({ dimensions: [{ Name: 'service', Value: 'certpipe' }, { Name: 'Status', Value: '201' }], value: 3 }),
    ]);
  });

  it('takes an array of values as one datum of several samples', () => {
    const line = JSON.stringify({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }] }, M: [1, 2, 3] });
    expect(datapointsFromEmf(line, origin)).toEqual([expect.objectContaining({ values: [1, 2, 3], dimensions: [], unit: 'None' })]);
  });

  it.each([
    ['a plain log line', '{"level":"INFO","message":"renewal decision"}'],
    ['not JSON', 'START RequestId: 1 Version: $LATEST'],
    ['a dimension without its value', JSON.stringify({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['service']], Metrics: [{ Name: 'M' }] }] }, M: 1 })],
    ['a metric without a numeric value', JSON.stringify({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }] }, M: 'one' })],
    ['no timestamp', JSON.stringify({ _aws: { CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }] }, M: 1 })],
  ])('makes no metric of %s', (_name, line) => {
    expect(datapointsFromEmf(line, origin)).toEqual([]);
  });
});
