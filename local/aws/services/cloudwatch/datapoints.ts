// What CloudWatch stores per datum, wherever it came from (PutMetricData, the
// EMF lines of a function's log, the metrics AWS services publish themselves),
// and the statistics over a set of them, shared by GetMetricData and the alarms.
export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface StatisticSet {
  readonly SampleCount: number;
  readonly Sum: number;
  readonly Minimum: number;
  readonly Maximum: number;
}

/** One datum of a PutMetricData call, with where and when it was put. */
export interface StoredDatapoint {
  readonly account: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimension[];
  /** ISO 8601. */
  readonly timestamp: string;
  readonly unit?: string;
  readonly value?: number;
  readonly values?: number[];
  readonly counts?: number[];
  readonly statisticValues?: StatisticSet;
  readonly storageResolution: number;
}

/** The samples a datapoint contributes, as one statistic set. */
export function statisticsOf(d: StoredDatapoint): StatisticSet {
  if (d.statisticValues) return d.statisticValues;
  const values = d.values ?? [d.value ?? 0];
  const counts = d.counts ?? values.map(() => 1);
  let SampleCount = 0;
  let Sum = 0;
  for (let i = 0; i < values.length; i++) {
    SampleCount += counts[i]!;
    Sum += values[i]! * counts[i]!;
  }
  return { SampleCount, Sum, Minimum: Math.min(...values), Maximum: Math.max(...values) };
}

export const SUPPORTED_STATS = new Set(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount']);

export function statistic(stat: string, s: StatisticSet): number {
  switch (stat) {
    case 'Sum':
      return s.Sum;
    case 'Average':
      return s.SampleCount === 0 ? 0 : s.Sum / s.SampleCount;
    case 'Minimum':
      return s.Minimum;
    case 'Maximum':
      return s.Maximum;
    default:
      return s.SampleCount;
  }
}

export function sameDimensions(a: readonly Dimension[], b: readonly Dimension[]): boolean {
  return a.length === b.length && a.every((d) => b.some((e) => e.Name === d.Name && e.Value === d.Value));
}


/** One metric as a query names it: namespace, name and the exact dimension set. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

export function isMetric(d: StoredDatapoint, m: MetricIdentity): boolean {
  return d.namespace === m.namespace && d.metricName === m.metricName && sameDimensions(d.dimensions, m.dimensions);
}

/** The statistic set of each period that has data, keyed by the period's start (epoch ms). */
export function byPeriod(points: Iterable<StoredDatapoint>, periodSeconds: number): Map<number, StatisticSet> {
  const periodMs = periodSeconds * 1000;
  const buckets = new Map<number, StatisticSet>();
  for (const d of points) {
    const bucket = Math.floor(Date.parse(d.timestamp) / periodMs) * periodMs;
    const s = statisticsOf(d);
    const prev = buckets.get(bucket);
    buckets.set(
      bucket,
      prev
        ? {
            SampleCount: prev.SampleCount + s.SampleCount,
            Sum: prev.Sum + s.Sum,
            Minimum: Math.min(prev.Minimum, s.Minimum),
            Maximum: Math.max(prev.Maximum, s.Maximum),
          }
        : s,
    );
  }
  return buckets;
}
