// PutMetricAlarm's request read into an AlarmRule, validated as CloudWatch
// validates it (the errors CloudWatch sends), and refused when the local
// CloudWatch could not evaluate it faithfully (an unsupported statistic or
// metric math), so an alarm never sits silently OK here that would fire in AWS.
import { AwsError } from '../../types.js';
import type { AlarmQuery, AlarmRule, ComparisonOperator, MetricStat, TreatMissingData } from './alarm-evaluation.js';
import { SUPPORTED_STATS, type Dimension } from './datapoints.js';
import { MetricMathError, parseExpression, referencedIds } from './metric-math.js';

const COMPARISONS = new Set<ComparisonOperator>([
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
]);
const TREATMENTS = new Set<TreatMissingData>(['missing', 'notBreaching', 'breaching', 'ignore']);
const ALARM_NAME = /^[^\u0000-\u001f]{1,255}$/;

const shape = (code: string) =>
  ({ InvalidParameterValue: 'InvalidParameterValueException', MissingParameter: 'MissingRequiredParameterException', InvalidParameterCombination: 'InvalidParameterCombinationException', ValidationError: 'ValidationError' })[code] ?? code;
export const alarmError = (code: string, message: string) =>
  new AwsError(code, message, 400, 'Sender', { __type: `com.amazonaws.cloudwatch#${shape(code)}` });
const invalid = (param: string, value: unknown) => alarmError('InvalidParameterValue', `The value ${String(value)} for parameter ${param} is invalid.`);
const missing = (param: string) => alarmError('MissingParameter', `The parameter ${param} is required.`);

function validPeriod(param: string, period: unknown): number {
  if (typeof period !== 'number' || period < 10 || (period >= 60 ? period % 60 !== 0 : ![10, 30].includes(period))) throw invalid(param, period);
  return period;
}

function dimensionsOf(raw: unknown): Dimension[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('Dimensions', raw);
  return raw.map((d: { Name?: unknown; Value?: unknown }) => ({ Name: String(d?.Name ?? ''), Value: String(d?.Value ?? '') }));
}

function stat(param: string, raw: unknown): string {
  if (typeof raw !== 'string' || !raw) throw missing(param);
  if (!SUPPORTED_STATS.has(raw)) throw invalid(param, `${raw} (the local CloudWatch alarms on Sum, Average, Minimum, Maximum and SampleCount)`);
  return raw;
}

function queriesOf(input: Record<string, any>): AlarmQuery[] {
  if (Array.isArray(input.Metrics) && input.Metrics.length) {
    if (input.MetricName !== undefined || input.Namespace !== undefined || input.Statistic !== undefined) {
      throw alarmError('InvalidParameterCombination', 'The parameters MetricName, Namespace and Statistic are mutually exclusive with Metrics.');
    }
    const queries: AlarmQuery[] = input.Metrics.map((q: Record<string, any>, i: number) => {
      const at = `Metrics.member.${i + 1}`;
      if (typeof q.Id !== 'string' || !/^[a-z][A-Za-z0-9_]*$/.test(q.Id)) throw invalid(`${at}.Id`, q.Id);
      const returnData = q.ReturnData !== false;
      if (q.Expression !== undefined) {
        try {
          parseExpression(String(q.Expression));
        } catch (err) {
          if (err instanceof MetricMathError) throw alarmError('ValidationError', `${at}.Expression: ${err.message}`);
          throw err;
        }
        return { id: q.Id, returnData, expression: String(q.Expression), ...(q.Period ? { period: validPeriod(`${at}.Period`, q.Period) } : {}) };
      }
      const s = q.MetricStat as Record<string, any> | undefined;
      if (!s) throw alarmError('ValidationError', `${at} must have either MetricStat or Expression.`);
      const metricStat: MetricStat = {
        namespace: String(s.Metric?.Namespace ?? ''),
        metricName: String(s.Metric?.MetricName ?? ''),
        dimensions: dimensionsOf(s.Metric?.Dimensions),
        period: validPeriod(`${at}.MetricStat.Period`, s.Period),
        stat: stat(`${at}.MetricStat.Stat`, s.Stat),
        ...(s.Unit ? { unit: String(s.Unit) } : {}),
      };
      return { id: q.Id, returnData, metricStat };
    });
    const returning = queries.filter((q) => q.returnData);
    if (returning.length !== 1) throw alarmError('ValidationError', 'Exactly one element of the metrics list should return data.');
    const ids = new Set(queries.map((q) => q.id));
    for (const q of queries) {
      if (!('expression' in q)) continue;
      for (const id of referencedIds(parseExpression(q.expression))) {
        if (!ids.has(id)) throw alarmError('ValidationError', `Metrics list: ${q.id} uses ${id}, which is not an Id of the list.`);
        const ref = queries.find((r) => r.id === id)!;
        if ('expression' in ref) throw alarmError('ValidationError', `The local CloudWatch evaluates expressions over metrics only (${q.id} uses the expression ${id}).`);
      }
    }
    return queries;
  }
  if (!input.MetricName) throw missing('MetricName');
  if (!input.Namespace) throw missing('Namespace');
  if (input.ExtendedStatistic !== undefined) throw invalid('ExtendedStatistic', `${input.ExtendedStatistic} (percentiles are not evaluated locally)`);
  return [
    {
      id: 'm1',
      returnData: true,
      metricStat: {
        namespace: String(input.Namespace),
        metricName: String(input.MetricName),
        dimensions: dimensionsOf(input.Dimensions),
        period: validPeriod('Period', input.Period),
        stat: stat('Statistic', input.Statistic),
        ...(input.Unit ? { unit: String(input.Unit) } : {}),
      },
    },
  ];
}

export function alarmNameOf(raw: unknown): string {
  if (typeof raw !== 'string' || !raw) throw missing('AlarmName');
  if (!ALARM_NAME.test(raw)) throw invalid('AlarmName', raw);
  return raw;
}

/** The rule a PutMetricAlarm request defines. */
export function alarmRuleOf(input: Record<string, any>): AlarmRule {
  const evaluationPeriods = input.EvaluationPeriods;
  if (typeof evaluationPeriods !== 'number' || !Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) throw invalid('EvaluationPeriods', evaluationPeriods);
  const datapointsToAlarm = input.DatapointsToAlarm ?? evaluationPeriods;
  if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
    throw alarmError('ValidationError', 'DatapointsToAlarm must be between 1 and EvaluationPeriods.');
  }
  if (typeof input.Threshold !== 'number') throw alarmError('ValidationError', 'Threshold is required (anomaly detection alarms are not evaluated locally).');
  if (!COMPARISONS.has(input.ComparisonOperator)) throw invalid('ComparisonOperator', input.ComparisonOperator);
  const treatMissingData = input.TreatMissingData ?? 'missing';
  if (!TREATMENTS.has(treatMissingData)) throw invalid('TreatMissingData', treatMissingData);
  return {
    queries: queriesOf(input),
    evaluationPeriods,
    datapointsToAlarm,
    threshold: input.Threshold,
    comparisonOperator: input.ComparisonOperator,
    treatMissingData,
  };
}
