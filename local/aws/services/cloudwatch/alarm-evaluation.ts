// How CloudWatch decides a metric alarm's state, as a pure function of the
// alarm, the datapoints and `now`. The evaluation range is the alarm's last
// EvaluationPeriods periods, aligned to period boundaries, the one holding
// `now` included (so a failure just now is seen at once, as CloudWatch sees
// it within its evaluation interval). A period with no value is "missing" and
// TreatMissingData says what it counts as; an alarm is ALARM when at least
// DatapointsToAlarm periods of the range breach.
import { byPeriod, isMetric, statistic, type Dimension, type StoredDatapoint } from './datapoints.js';
import { evaluateExpression, parseExpression, type Series } from './metric-math.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';
export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export interface MetricStat {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
  readonly period: number;
  readonly stat: string;
  readonly unit?: string;
}

/** A MetricDataQuery of the alarm: a metric or an expression over the others. */
export type AlarmQuery =
  | { readonly id: string; readonly returnData: boolean; readonly metricStat: MetricStat }
  | { readonly id: string; readonly returnData: boolean; readonly expression: string; readonly period?: number };

export interface AlarmRule {
  /** The metric alarmed on: one MetricStat query, or several with exactly one expression returning data. */
  readonly queries: readonly AlarmQuery[];
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly treatMissingData: TreatMissingData;
}

export interface Evaluation {
  readonly state: AlarmState;
  readonly reason: string;
  /** One value per period of the range, oldest first (undefined: missing). */
  readonly values: Series;
}

const COMPARE: Record<ComparisonOperator, [(v: number, t: number) => boolean, string]> = {
  GreaterThanOrEqualToThreshold: [(v, t) => v >= t, 'greater than or equal to'],
  GreaterThanThreshold: [(v, t) => v > t, 'greater than'],
  LessThanThreshold: [(v, t) => v < t, 'less than'],
  LessThanOrEqualToThreshold: [(v, t) => v <= t, 'less than or equal to'],
};

/** The period of the alarm: the returned query's own, or its metrics'. */
export function alarmPeriod(rule: AlarmRule): number {
  const returned = rule.queries.find((q) => q.returnData) ?? rule.queries[0]!;
  if ('metricStat' in returned) return returned.metricStat.period;
  const metric = rule.queries.find((q) => 'metricStat' in q) as { metricStat: MetricStat } | undefined;
  return returned.period ?? metric?.metricStat.period ?? 60;
}

/** The start (epoch ms) of each period of the evaluation range, oldest first. */
export function evaluationSlots(rule: AlarmRule, now: Date): number[] {
  const periodMs = alarmPeriod(rule) * 1000;
  const current = Math.floor(now.getTime() / periodMs) * periodMs;
  return Array.from({ length: rule.evaluationPeriods }, (_, k) => current - (rule.evaluationPeriods - 1 - k) * periodMs);
}

function metricSeries(stat: MetricStat, points: readonly StoredDatapoint[], slots: number[], now: Date): Series {
  const until = now.getTime();
  const buckets = byPeriod(
    points.filter((d) => isMetric(d, stat) && (stat.unit === undefined || d.unit === stat.unit) && Date.parse(d.timestamp) <= until),
    stat.period,
  );
  return slots.map((slot) => {
    const s = buckets.get(slot);
    return s ? statistic(stat.stat, s) : undefined;
  });
}

/** The values the alarm compares with its threshold, one per period of the range. */
export function alarmValues(rule: AlarmRule, points: readonly StoredDatapoint[], now: Date): Series {
  const slots = evaluationSlots(rule, now);
  const series = new Map<string, Series>();
  for (const q of rule.queries) if ('metricStat' in q) series.set(q.id, metricSeries(q.metricStat, points, slots, now));
  const returned = rule.queries.find((q) => q.returnData) ?? rule.queries[0]!;
  if ('metricStat' in returned) return series.get(returned.id)!;
  return evaluateExpression(parseExpression(returned.expression), series, slots.length);
}

const show = (v: number) => String(Math.round(v * 1000) / 1000);

export function evaluateAlarm(rule: AlarmRule, points: readonly StoredDatapoint[], now: Date, current: AlarmState): Evaluation {
  const values = alarmValues(rule, points, now);
  const [breaches, words] = COMPARE[rule.comparisonOperator];
  const present = values.filter((v): v is number => v !== undefined);
  const missing = values.length - present.length;
  const breaching = present.filter((v) => breaches(v, rule.threshold)).length + (rule.treatMissingData === 'breaching' ? missing : 0);
  const shown = `[${values.map((v) => (v === undefined ? 'missing' : show(v))).join(', ')}]`;
  const of = `${rule.datapointsToAlarm} out of the last ${rule.evaluationPeriods} datapoints`;

  if (breaching >= rule.datapointsToAlarm) {
    return { state: 'ALARM', values, reason: `Threshold Crossed: ${of} ${shown} were ${words} the threshold (${show(rule.threshold)}).` };
  }
  if (present.length === 0) {
    if (rule.treatMissingData === 'notBreaching') {
      return { state: 'OK', values, reason: `Threshold Crossed: no datapoints were received for ${rule.evaluationPeriods} periods and ${rule.evaluationPeriods} missing datapoints were treated as [NonBreaching].` };
    }
    if (rule.treatMissingData === 'ignore') return { state: current, values, reason: 'No datapoints: the state is kept (TreatMissingData ignore).' };
    return { state: 'INSUFFICIENT_DATA', values, reason: `Insufficient Data: ${rule.evaluationPeriods} datapoints were unknown.` };
  }
  return { state: 'OK', values, reason: `Threshold Crossed: ${of} ${shown} were not ${words} the threshold (${show(rule.threshold)}).` };
}
