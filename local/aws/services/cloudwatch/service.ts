// Local CloudWatch metrics. The SDK speaks AWS JSON 1.0 to the
// `GraniteServiceVersion20100801` target with awsQueryCompatible, so errors carry
// the Query-era codes (InvalidParameterValue, MissingParameter, …) in
// `x-amzn-query-error`. PutMetricData validates like AWS and stores each call;
// ListMetrics and GetMetricData (MetricStat queries) read them back, and
// `GET /_certpipe/metrics?namespace=` returns the raw datapoints. The functions'
// EMF log lines and the metrics of AWS/Lambda and AWS/States arrive through
// `metrics` (MetricSink); the alarms (alarms.ts) are evaluated over all of them.
import { randomUUID } from 'node:crypto';
import { decodeToken, encodeToken, epochSeconds, jsonService, jsonResponse } from '../../protocol.js';
import {
  AwsError,
  type CallContext,
  type Collection,
  type LocalCloud,
  type LocalService,
  type ServiceFactory,
  type ServiceRequest,
  type ServiceResponse,
} from '../../types.js';
import { Alarms } from './alarms.js';
import { datapointsFromEmf, type LogOrigin } from './emf.js';
import { byPeriod, isMetric, statistic, SUPPORTED_STATS, type Dimension, type StatisticSet, type StoredDatapoint } from './datapoints.js';

export type { Dimension, StatisticSet, StoredDatapoint } from './datapoints.js';

interface StoredBatch {
  readonly datapoints: StoredDatapoint[];
}

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits',
  'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second',
  'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second',
  'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);
const MAX_DATUMS = 1000;
const MAX_DIMENSIONS = 30;
const MAX_VALUES = 150;
const TWO_WEEKS_MS = 14 * 86_400_000;
const TWO_HOURS_MS = 2 * 3_600_000;

/** Query-era error code → the Smithy shape CloudWatch names in `__type`. */
const SHAPES: Record<string, string> = {
  InvalidParameterValue: 'InvalidParameterValueException',
  MissingParameter: 'MissingRequiredParameterException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  InvalidNextToken: 'InvalidNextToken',
};

/** An error as CloudWatch sends it: the shape id in the body, the Query code in `x-amzn-query-error`. */
function cwError(code: keyof typeof SHAPES, message: string): AwsError {
  return new AwsError(code, message, 400, 'Sender', { __type: `com.amazonaws.cloudwatch#${SHAPES[code]}` });
}

const missing = (param: string) => cwError('MissingParameter', `The parameter ${param} is required.`);
const invalid = (param: string, value: unknown) =>
  cwError('InvalidParameterValue', `The value ${String(value)} for parameter ${param} is invalid.`);
const combination = (message: string) => cwError('InvalidParameterCombination', message);

/** The SDK sends non-finite doubles as the strings "NaN" and "Infinity", which CloudWatch refuses. */
function metricValue(param: string, raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw invalid(param, raw);
  const magnitude = Math.abs(raw);
  if (magnitude !== 0 && (magnitude > 2 ** 360 || magnitude < 2 ** -260)) throw invalid(param, raw);
  return raw;
}

function text(param: string, raw: unknown, max: number): string {
  if (raw === undefined || raw === null || raw === '') throw missing(param);
  if (typeof raw !== 'string' || raw.length > max) throw invalid(param, raw);
  return raw;
}

function dimensionsOf(param: string, raw: unknown): Dimension[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid(param, raw);
  if (raw.length > MAX_DIMENSIONS) {
    throw cwError('InvalidParameterValue', `The collection ${param} must not have a size greater than ${MAX_DIMENSIONS}.`);
  }
  const seen = new Set<string>();
  return raw.map((d: Record<string, unknown>, i) => {
    const Name = text(`${param}.member.${i + 1}.Name`, d?.Name, 255);
    const Value = text(`${param}.member.${i + 1}.Value`, d?.Value, 1024);
    if (seen.has(Name)) throw cwError('InvalidParameterValue', `No metric may have duplicate dimension names: ${Name}.`);
    seen.add(Name);
    return { Name, Value };
  });
}

function datumOf(raw: Record<string, unknown>, index: number, namespace: string, ctx: CallContext): StoredDatapoint {
  const at = `MetricData.member.${index + 1}`;
  const metricName = text(`${at}.MetricName`, raw.MetricName, 255);
  const dimensions = dimensionsOf(`${at}.Dimensions`, raw.Dimensions);
  const given = ['Value', 'Values', 'StatisticValues'].filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (given.length > 1) {
    throw combination(`The parameters ${given.map((k) => `${at}.${k}`).join(' and ')} are mutually exclusive and you have specified both.`);
  }
  if (given.length === 0) {
    throw combination(`At least one of the parameters ${at}.Value, ${at}.Values or ${at}.StatisticValues must be specified.`);
  }

  let value: number | undefined;
  let values: number[] | undefined;
  let counts: number[] | undefined;
  let statisticValues: StatisticSet | undefined;
  if (raw.Value !== undefined && raw.Value !== null) value = metricValue(`${at}.Value`, raw.Value);
  if (raw.Values !== undefined && raw.Values !== null) {
    if (!Array.isArray(raw.Values)) throw invalid(`${at}.Values`, raw.Values);
    if (raw.Values.length > MAX_VALUES) {
      throw cwError('InvalidParameterValue', `The collection ${at}.Values must not have a size greater than ${MAX_VALUES}.`);
    }
    values = raw.Values.map((v, i) => metricValue(`${at}.Values.member.${i + 1}`, v));
    if (raw.Counts !== undefined && raw.Counts !== null) {
      if (!Array.isArray(raw.Counts) || raw.Counts.length !== values.length) {
        throw cwError('InvalidParameterValue', `The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
      }
      counts = raw.Counts.map((c, i) => {
        const count = metricValue(`${at}.Counts.member.${i + 1}`, c);
        if (count < 0) throw invalid(`${at}.Counts.member.${i + 1}`, c);
        return count;
      });
    }
  }
  if (raw.StatisticValues !== undefined && raw.StatisticValues !== null) {
    const s = raw.StatisticValues as Record<string, unknown>;
    const field = (name: keyof StatisticSet) => {
      if (s[name] === undefined || s[name] === null) throw missing(`${at}.StatisticValues.${name}`);
      return metricValue(`${at}.StatisticValues.${name}`, s[name]);
    };
    statisticValues = { SampleCount: field('SampleCount'), Sum: field('Sum'), Minimum: field('Minimum'), Maximum: field('Maximum') };
    if (statisticValues.SampleCount <= 0) throw invalid(`${at}.StatisticValues.SampleCount`, statisticValues.SampleCount);
    if (statisticValues.Minimum > statisticValues.Maximum) {
      throw combination(`The parameters ${at}.StatisticValues.Minimum must be less than or equal to ${at}.StatisticValues.Maximum.`);
    }
  }

  if (raw.Unit !== undefined && raw.Unit !== null && !UNITS.has(String(raw.Unit))) throw invalid(`${at}.Unit`, raw.Unit);
  const resolution = raw.StorageResolution ?? 60;
  if (resolution !== 1 && resolution !== 60) throw invalid(`${at}.StorageResolution`, resolution);

  let timestamp = ctx.now;
  if (raw.Timestamp !== undefined && raw.Timestamp !== null) {
    if (typeof raw.Timestamp !== 'number') throw invalid(`${at}.Timestamp`, raw.Timestamp);
    timestamp = new Date(raw.Timestamp * 1000);
    const age = ctx.now.getTime() - timestamp.getTime();
    if (age > TWO_WEEKS_MS || -age > TWO_HOURS_MS) {
      throw cwError(
        'InvalidParameterValue',
        `The parameter ${at}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`,
      );
    }
  }

  return {
    account: ctx.accountId,
    region: ctx.region,
    namespace,
    metricName,
    dimensions,
    timestamp: timestamp.toISOString(),
    unit: raw.Unit === undefined || raw.Unit === null ? undefined : String(raw.Unit),
    value,
    values,
    counts,
    statisticValues,
    storageResolution: resolution,
  };
}

const metricKey = (d: Pick<StoredDatapoint, 'namespace' | 'metricName' | 'dimensions'>) =>
  JSON.stringify([d.namespace, d.metricName, [...d.dimensions].sort((x, y) => (x.Name < y.Name ? -1 : 1))]);

class MetricStore {
  private readonly batches: Promise<Collection<StoredBatch>>;
  private sequence = 0;

  constructor(cloud: LocalCloud) {
    this.batches = cloud.store.collection<StoredBatch>('monitoring/datapoints');
    this.batches.catch(() => undefined);
  }

  private async all(filter: (d: StoredDatapoint) => boolean): Promise<StoredDatapoint[]> {
    const batches = await this.batches;
    return batches.keys().flatMap((key) => batches.get(key)?.datapoints.filter(filter) ?? []);
  }

  /** Stores datapoints that did not come through PutMetricData (EMF, AWS's own namespaces). */
  async record(datapoints: StoredDatapoint[]): Promise<void> {
    if (!datapoints.length) return;
    const key = `${datapoints[0]!.timestamp}#${String(this.sequence++).padStart(10, '0')}#${randomUUID()}`;
    await (await this.batches).put(key, { datapoints });
  }

  datapointsOf(account: string, region: string): Promise<StoredDatapoint[]> {
    return this.all((d) => d.account === account && d.region === region);
  }

  async putMetricData(input: Record<string, any>, ctx: CallContext) {
    const namespace = text('Namespace', input.Namespace, 255);
    if (namespace.startsWith('AWS/') || namespace.startsWith(':')) throw invalid('Namespace', namespace);
    const data = input.MetricData;
    if (!Array.isArray(data) || data.length === 0) throw missing('MetricData');
    if (data.length > MAX_DATUMS) {
      throw cwError('InvalidParameterValue', `The collection MetricData must not have a size greater than ${MAX_DATUMS}.`);
    }
    const datapoints = data.map((raw, i) => datumOf(raw ?? {}, i, namespace, ctx));
    const key = `${ctx.now.toISOString()}#${String(this.sequence++).padStart(10, '0')}#${randomUUID()}`;
    await (await this.batches).put(key, { datapoints });
    return {};
  }

  async listMetrics(input: Record<string, any>, ctx: CallContext) {
    const filters = (Array.isArray(input.Dimensions) ? input.Dimensions : []) as { Name?: string; Value?: string }[];
    const points = await this.all(
      (d) =>
        d.account === ctx.accountId &&
        d.region === ctx.region &&
        (input.Namespace === undefined || d.namespace === input.Namespace) &&
        (input.MetricName === undefined || d.metricName === input.MetricName) &&
        filters.every((f) => d.dimensions.some((dim) => dim.Name === f.Name && (f.Value === undefined || dim.Value === f.Value))),
    );
    const metrics = [...new Map(points.map((d) => [metricKey(d), d])).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const start = Number(decodeToken(input.NextToken, 'InvalidNextToken') ?? 0);
    if (!Number.isInteger(start) || start < 0) throw cwError('InvalidNextToken', 'The pagination token is invalid.');
    const page = metrics.slice(start, start + 500);
    return {
      Metrics: page.map(([, d]) => ({ Namespace: d.namespace, MetricName: d.metricName, Dimensions: d.dimensions })),
      NextToken: start + 500 < metrics.length ? encodeToken(String(start + 500)) : undefined,
    };
  }

  async getMetricData(input: Record<string, any>, ctx: CallContext) {
    const queries = input.MetricDataQueries;
    if (!Array.isArray(queries) || queries.length === 0) throw missing('MetricDataQueries');
    if (typeof input.StartTime !== 'number') throw missing('StartTime');
    if (typeof input.EndTime !== 'number') throw missing('EndTime');
    const startMs = input.StartTime * 1000;
    const endMs = input.EndTime * 1000;
    if (startMs >= endMs) throw combination('The parameter StartTime must be less than the parameter EndTime.');
    const ascending = input.ScanBy === 'TimestampAscending';
    const points = await this.all((d) => {
      const t = Date.parse(d.timestamp);
      return d.account === ctx.accountId && d.region === ctx.region && t >= startMs && t < endMs;
    });

    const results = queries.map((q: Record<string, any>, i: number) => {
      const at = `MetricDataQueries.member.${i + 1}`;
      const id = text(`${at}.Id`, q.Id, 255);
      const stat = q.MetricStat as Record<string, any> | undefined;
      if (!stat) {
        throw cwError('InvalidParameterValue', `The local CloudWatch answers MetricStat queries only; ${at} has none.`);
      }
      const metric = (stat.Metric ?? {}) as Record<string, any>;
      const period = stat.Period;
      if (typeof period !== 'number' || period < 1 || (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 20, 30].includes(period))) {
        throw invalid(`${at}.MetricStat.Period`, period);
      }
      if (!SUPPORTED_STATS.has(stat.Stat)) throw invalid(`${at}.MetricStat.Stat`, stat.Stat);
      const dims = dimensionsOf(`${at}.MetricStat.Metric.Dimensions`, metric.Dimensions);
      const wanted = { namespace: String(metric.Namespace), metricName: String(metric.MetricName), dimensions: dims };
      const buckets = byPeriod(
        points.filter((d) => isMetric(d, wanted) && (stat.Unit === undefined || d.unit === stat.Unit)),
        period,
      );
      const times = [...buckets.keys()].sort((a, b) => (ascending ? a - b : b - a));
      return {
        Id: id,
        Label: q.Label ?? metric.MetricName,
        Timestamps: times.map((t) => epochSeconds(t)),
        Values: times.map((t) => statistic(stat.Stat, buckets.get(t)!)),
        StatusCode: 'Complete',
      };
    });
    return { MetricDataResults: results.filter((_r: unknown, i: number) => queries[i]?.ReturnData !== false), Messages: [] };
  }

  /** `GET /_certpipe/metrics?namespace=&metricName=&account=&region=`, oldest first. */
  async list(req: ServiceRequest): Promise<ServiceResponse> {
    const q = (name: string) => req.query.get(name);
    const datapoints = await this.all(
      (d) =>
        (!q('namespace') || d.namespace === q('namespace')) &&
        (!q('metricName') || d.metricName === q('metricName')) &&
        (!q('account') || d.account === q('account')) &&
        (!q('region') || d.region === q('region')),
    );
    return jsonResponse(200, { datapoints });
  }

  /** `DELETE /_certpipe/metrics`: forget every stored datapoint. */
  async clear(): Promise<ServiceResponse> {
    return jsonResponse(200, { deleted: await (await this.batches).clear() });
  }
}

/** How the rest of the local cloud hands CloudWatch its metrics, as AWS does behind the API. */
export interface MetricSink {
  /** One line of a function's log: EMF becomes metrics, as CloudWatch Logs extracts them. */
  logLine(origin: LogOrigin, line: string): void;
  /** A metric an AWS service publishes itself (AWS/Lambda, AWS/States), now. */
  publish(origin: LogOrigin, namespace: string, metrics: ReadonlyArray<{ name: string; value: number; unit: string }>, dimensions: Dimension[]): void;
}

export interface CloudWatchService extends LocalService {
  readonly metrics: MetricSink;
}

const cloudWatch: ServiceFactory = (cloud): CloudWatchService => {
  const store = new MetricStore(cloud);
  const alarms = new Alarms(cloud, (account, region) => store.datapointsOf(account, region));
  const pending = new Set<Promise<unknown>>();
  // Metric writes are fire-and-forget for the caller (a log line must not wait on disk), but closing waits for them.
  const track = (write: Promise<unknown>) => {
    const p = write.catch((err: Error) => console.error(`[certpipe-local] storing metrics failed: ${err.message}`));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const metrics: MetricSink = {
    logLine(origin, line) {
      const points = datapointsFromEmf(line, origin);
      if (points.length) track(store.record(points));
    },
    publish(origin, namespace, list, dimensions) {
      const timestamp = cloud.now().toISOString();
      track(
        store.record(
          list.map((m) => ({ ...origin, namespace, metricName: m.name, dimensions, timestamp, unit: m.unit, value: m.value, storageResolution: 60 })),
        ),
      );
    },
  };
  return {
    metrics,
    ...jsonService({
      signingName: 'monitoring',
      targetPrefix: 'GraniteServiceVersion20100801',
      jsonVersion: '1.0',
      queryCompatible: true,
      operations: {
        PutMetricData: (input, ctx) => store.putMetricData(input, ctx),
        ListMetrics: (input, ctx) => store.listMetrics(input, ctx),
        GetMetricData: (input, ctx) => store.getMetricData(input, ctx),
        PutMetricAlarm: (input, ctx) => alarms.putMetricAlarm(input, ctx),
        DescribeAlarms: (input, ctx) => alarms.describeAlarms(input, ctx),
        DeleteAlarms: (input, ctx) => alarms.deleteAlarms(input, ctx),
      },
    }),
    internalRoutes: {
      'GET /_certpipe/metrics': (req) => store.list(req),
      'DELETE /_certpipe/metrics': () => store.clear(),
      'GET /_certpipe/alarms': () => alarms.list(),
      'POST /_certpipe/alarms/evaluate': async (req) => {
        await Promise.allSettled([...pending]);
        return alarms.evaluateRoute(req);
      },
    },
    async close() {
      alarms.close();
      await Promise.allSettled([...pending]);
    },
  };
};

export default cloudWatch;
