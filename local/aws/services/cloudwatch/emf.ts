// Embedded Metric Format: what CloudWatch Logs extracts from a function's log
// line, as in AWS. A line is a JSON object whose `_aws.CloudWatchMetrics` names,
// per directive, a namespace, dimension sets and metrics; the values sit at the
// root under the metric's name (a number or up to 100 numbers), the dimension
// values under each dimension's name, the time in `_aws.Timestamp` (epoch ms).
// CloudWatch Logs keeps a line it cannot read as metrics as a plain log event
// and creates no metric, so anything malformed yields nothing here.
import type { Dimension, StoredDatapoint } from './datapoints.js';

const MAX_VALUES = 100;
const MAX_DIMENSIONS_PER_SET = 30;

export interface LogOrigin {
  readonly account: string;
  readonly region: string;
}

type Directive = { Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown };

/** The datapoints one log line makes; [] for a line that is not valid EMF. */
export function datapointsFromEmf(line: string, origin: LogOrigin): StoredDatapoint[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.includes('"_aws"')) return [];
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    return [];
  }
  const meta = record._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!meta || typeof meta.Timestamp !== 'number' || !Array.isArray(meta.CloudWatchMetrics)) return [];
  const timestamp = new Date(meta.Timestamp).toISOString();
  const out: StoredDatapoint[] = [];
  for (const directive of meta.CloudWatchMetrics as Directive[]) {
    const namespace = directive?.Namespace;
    if (typeof namespace !== 'string' || !namespace || !Array.isArray(directive.Metrics) || !Array.isArray(directive.Dimensions)) continue;
    const sets = dimensionSets(directive.Dimensions, record);
    if (!sets) continue;
    for (const metric of directive.Metrics as { Name?: unknown; Unit?: unknown; StorageResolution?: unknown }[]) {
      if (typeof metric?.Name !== 'string') continue;
      const values = valuesOf(record[metric.Name]);
      if (!values) continue;
      for (const dimensions of sets) {
        out.push({
          account: origin.account,
          region: origin.region,
          namespace,
          metricName: metric.Name,
          dimensions,
          timestamp,
          unit: typeof metric.Unit === 'string' ? metric.Unit : 'None',
          ...(values.length === 1 ? { value: values[0]! } : { values }),
          storageResolution: metric.StorageResolution === 1 ? 1 : 60,
        });
      }
    }
  }
  return out;
}

/** Each set of dimension names with its values from the record; undefined when a value is missing. */
function dimensionSets(raw: unknown[], record: Record<string, unknown>): Dimension[][] | undefined {
  const sets: Dimension[][] = [];
  for (const names of raw) {
    if (!Array.isArray(names) || names.length > MAX_DIMENSIONS_PER_SET) return undefined;
    const set: Dimension[] = [];
    for (const name of names) {
      const value = record[String(name)];
      if (typeof value !== 'string' || !value) return undefined;
      set.push({ Name: String(name), Value: value });
    }
    sets.push(set);
  }
  // A directive with no dimension set still publishes its metrics, without dimensions.
  return sets.length ? sets : [[]];
}

function valuesOf(raw: unknown): number[] | undefined {
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0 || values.length > MAX_VALUES) return undefined;
  return values.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (values as number[]) : undefined;
}
