// A Map state in DISTRIBUTED mode, which aws-local-stepfunctions 3.0.0 does not
// know: the parent's engine sees a Task of the same name, and this module runs
// the map run: items from the ItemReader (an S3 JSON array) or ItemsPath, each
// item's ItemSelector, one child execution per item (its own history, its own
// quotas, as in AWS), at most MaxConcurrency at once, the tolerated failures,
// and the results to S3 through the ResultWriter.
import { randomUUID } from 'node:crypto';
import { JSONPath } from 'jsonpath-plus';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type AslObject = Record<string, unknown>;

/** The parts of a DISTRIBUTED Map state this module runs. */
export interface DistributedMapSpec {
  readonly stateName: string;
  /** The ItemProcessor: the definition each child execution runs. */
  readonly processor: AslObject;
  readonly itemsPath?: string;
  readonly itemReader?: { Resource: string; Parameters?: AslObject; ReaderConfig?: AslObject };
  readonly itemSelector?: AslObject;
  readonly resultWriter?: { Resource: string; Parameters?: AslObject };
  /** 0: as many as AWS allows at once (10,000). */
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;
}

const isObject = (v: unknown): v is AslObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export const isDistributedMap = (state: AslObject): boolean =>
  state.Type === 'Map' && isObject(state.ItemProcessor) && isObject(state.ItemProcessor.ProcessorConfig) && state.ItemProcessor.ProcessorConfig.Mode === 'DISTRIBUTED';

/** The Map state's map-run settings, and the Task the engine runs in its place (Next/End, paths, Retry/Catch kept). */
export function splitDistributedMap(stateName: string, state: AslObject): { spec: DistributedMapSpec; task: AslObject } {
  const {
    ItemProcessor, ItemsPath, ItemReader, ItemSelector, ItemBatcher, ResultWriter, MaxConcurrency, ToleratedFailurePercentage, ToleratedFailureCount,
    Label: _label, Parameters, Type: _type, ...rest
  } = state;
  if (ItemBatcher !== undefined) throw new Error(`The local Step Functions does not run ItemBatcher (state ${stateName})`);
  if (Parameters !== undefined) throw new Error(`Map state ${stateName}: use ItemSelector, not Parameters, in DISTRIBUTED mode`);
  const { ProcessorConfig: _config, ...processor } = ItemProcessor as AslObject;
  return {
    spec: {
      stateName,
      processor,
      itemsPath: typeof ItemsPath === 'string' ? ItemsPath : undefined,
      itemReader: ItemReader as DistributedMapSpec['itemReader'],
      itemSelector: ItemSelector as AslObject | undefined,
      resultWriter: ResultWriter as DistributedMapSpec['resultWriter'],
      maxConcurrency: typeof MaxConcurrency === 'number' ? MaxConcurrency : 0,
      toleratedFailurePercentage: typeof ToleratedFailurePercentage === 'number' ? ToleratedFailurePercentage : 0,
      toleratedFailureCount: typeof ToleratedFailureCount === 'number' ? ToleratedFailureCount : 0,
    },
    task: { ...rest, Type: 'Task', Resource: `certpipe:distributed-map:${stateName}` },
  };
}

/** A JSONPath payload template (`"key.$": "$.path"` / `"$$.Map.Item.Value"`), as Step Functions resolves Parameters and ItemSelector. */
export function resolveTemplate(template: unknown, input: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((v) => resolveTemplate(v, input, context));
  if (!isObject(template)) return template as Json;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      const path = String(value);
      if (!path.startsWith('$')) throw new Error(`The local Step Functions resolves JSONPath only, not ${path}`);
      const fromContext = path.startsWith('$$');
      out[key.slice(0, -2)] = JSONPath({ path: fromContext ? path.slice(1) : path, json: (fromContext ? context : input) as object, wrap: false }) as Json;
    } else {
      out[key] = resolveTemplate(value, input, context);
    }
  }
  return out;
}

/** A finished child execution, as the ResultWriter's files list it. */
export interface ChildResult {
  readonly ExecutionArn: string;
  readonly Name: string;
  readonly StateMachineArn: string;
  readonly Status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly Input: string;
  readonly Output?: string;
  readonly Error?: string;
  readonly Cause?: string;
  readonly StartDate: string;
  readonly StopDate: string;
}

/** What a map run needs of the service: child executions, S3, the parent's history. */
export interface MapRunPorts {
  readonly parentArn: string;
  readonly region: string;
  readonly accountId: string;
  readonly stateMachineArn: string;
  readonly parentContext: Json;
  /** Starts one child execution of `definition` and resolves when it ends; rejects when it cannot be started (the role may not). */
  runChild(mapRunArn: string, definition: AslObject, input: Json): Promise<ChildResult>;
  getObject(bucket: string, key: string): Promise<Buffer>;
  putObject(bucket: string, key: string, body: string): Promise<void>;
  emit(event: { type: string } & Record<string, unknown>): void;
  isRunning(): boolean;
}

/** Like the engine's task errors: the name is what Retry/Catch match. */
export class MapRunFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

async function readItems(spec: DistributedMapSpec, input: Json, ports: MapRunPorts): Promise<Json[]> {
  if (!spec.itemReader) {
    const items = spec.itemsPath ? JSONPath({ path: spec.itemsPath, json: input as object, wrap: false }) : input;
    if (!Array.isArray(items)) throw new MapRunFailure('States.Runtime', `Map state ${spec.stateName}: the items (${spec.itemsPath ?? '$'}) are not an array`);
    return items as Json[];
  }
  const reader = spec.itemReader;
  if (!/:states:::s3:getObject$/.test(reader.Resource) || (reader.ReaderConfig?.InputType ?? 'JSON') !== 'JSON') {
    throw new MapRunFailure('States.Runtime', `The local Step Functions reads items from s3:getObject with InputType JSON only, not ${reader.Resource}`);
  }
  const { Bucket, Key } = resolveTemplate(reader.Parameters ?? {}, input, ports.parentContext) as { Bucket?: string; Key?: string };
  let body: Buffer;
  try {
    body = await ports.getObject(String(Bucket), String(Key));
  } catch (err) {
    throw new MapRunFailure('States.ItemReaderFailed', `Reading s3://${Bucket}/${Key} failed: ${(err as Error).name}: ${(err as Error).message}`);
  }
  let items: unknown;
  try {
    items = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MapRunFailure('States.ItemReaderFailed', `s3://${Bucket}/${Key} is not JSON`);
  }
  if (!Array.isArray(items)) throw new MapRunFailure('States.ItemReaderFailed', `s3://${Bucket}/${Key} does not hold a JSON array`);
  return items as Json[];
}

/** Runs one map run and returns the Map state's result (before ResultSelector/ResultPath). */
export async function runMapRun(spec: DistributedMapSpec, input: Json, ports: MapRunPorts): Promise<Json> {
  const items = await readItems(spec, input, ports);
  const mapRunId = randomUUID();
  const machineName = ports.stateMachineArn.split(':').pop()!;
  const mapRunArn = `arn:aws:states:${ports.region}:${ports.accountId}:mapRun:${machineName}/${spec.stateName}:${mapRunId}`;
  ports.emit({ type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn } });

  const results: ChildResult[] = new Array(items.length);
  const limit = spec.maxConcurrency > 0 ? spec.maxConcurrency : 10_000;
  let next = 0;
  let notStarted: Error | undefined;
  const worker = async () => {
    while (!notStarted && next < items.length && ports.isRunning()) {
      const index = next++;
      const context = { ...(ports.parentContext as object), Map: { Item: { Index: index, Value: items[index]! } } } as Json;
      const childInput = spec.itemSelector ? resolveTemplate(spec.itemSelector, input, context) : items[index]!;
      try {
        results[index] = await ports.runChild(mapRunArn, spec.processor, childInput);
      } catch (err) {
        notStarted ??= err as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (notStarted) {
    // No item can run: the map run fails as a whole, not item by item.
    const cause = `Starting a child execution failed: ${notStarted.name}: ${notStarted.message}`;
    ports.emit({ type: 'MapRunFailed', mapRunFailedEventDetails: { error: 'States.Runtime', cause } });
    throw new MapRunFailure('States.Runtime', cause);
  }
  if (!ports.isRunning()) throw new MapRunFailure('States.Runtime', 'The execution was stopped');

  const failed = results.filter((r) => r.Status !== 'SUCCEEDED');
  const tolerated = Math.max(spec.toleratedFailureCount, Math.floor((spec.toleratedFailurePercentage / 100) * items.length));
  const output = spec.resultWriter ? await writeResults(spec, input, ports, mapRunArn, mapRunId, results) : results.map(childOutput);
  if (failed.length > tolerated) {
    const cause = `The specified tolerated failure threshold was exceeded: ${failed.length} of ${items.length} child executions failed`;
    ports.emit({ type: 'MapRunFailed', mapRunFailedEventDetails: { error: 'States.ExceedToleratedFailureThreshold', cause } });
    throw new MapRunFailure('States.ExceedToleratedFailureThreshold', cause);
  }
  ports.emit({ type: 'MapRunSucceeded' });
  return output;
}

const childOutput = (r: ChildResult): Json => (r.Status === 'SUCCEEDED' ? (JSON.parse(r.Output ?? 'null') as Json) : { Error: r.Error ?? null, Cause: r.Cause ?? null });

/** `<Prefix>/<map run id>/manifest.json` and one file per status, as AWS's ResultWriter writes them. */
async function writeResults(spec: DistributedMapSpec, input: Json, ports: MapRunPorts, mapRunArn: string, mapRunId: string, results: ChildResult[]): Promise<Json> {
  const writer = spec.resultWriter!;
  if (!/:states:::s3:putObject$/.test(writer.Resource)) throw new MapRunFailure('States.Runtime', `ResultWriter Resource must be arn:aws:states:::s3:putObject, not ${writer.Resource}`);
  const { Bucket, Prefix } = resolveTemplate(writer.Parameters ?? {}, input, ports.parentContext) as { Bucket?: string; Prefix?: string };
  const base = `${Prefix ? `${String(Prefix).replace(/\/$/, '')}/` : ''}${mapRunId}`;
  const files: Record<string, Array<{ Key: string; Size: number }>> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  try {
    for (const status of ['SUCCEEDED', 'FAILED'] as const) {
      const entries = results.filter((r) => (status === 'SUCCEEDED' ? r.Status === 'SUCCEEDED' : r.Status !== 'SUCCEEDED'));
      if (entries.length === 0) continue;
      const key = `${base}/${status}_0.json`;
      const body = JSON.stringify(entries.map((r) => ({ ...r, InputDetails: { Included: true }, ...(r.Output !== undefined ? { OutputDetails: { Included: true } } : {}), RedriveCount: 0, RedriveStatus: 'NOT_REDRIVABLE' })));
      await ports.putObject(String(Bucket), key, body);
      files[status]!.push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifestKey = `${base}/manifest.json`;
    await ports.putObject(String(Bucket), manifestKey, JSON.stringify({ DestinationBucket: Bucket, MapRunArn: mapRunArn, ResultFiles: files }));
    return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: Bucket ?? null, Key: manifestKey } };
  } catch (err) {
    if (err instanceof MapRunFailure) throw err;
    throw new MapRunFailure('States.ResultWriterFailed', `Writing the results to s3://${Bucket}/${base} failed: ${(err as Error).name}: ${(err as Error).message}`);
  }
}
