// Summarize: count what happened; the ASL fails the execution when anything failed.
// A deferred certificate (the CA's Retry-After lies past this execution, or the rate-limit
// budget left it for a later run) is not a failure. The per-certificate results are the
// child executions RenewEach's ResultWriter listed in the run bucket: read them all,
// count them all, list only a few.
import type { ItemResult, MapRunResults, SummarizeInput, SummarizeOutput } from '../workflow/states.js';
import type { ContextFor } from '../context.js';
import { logger, recordRenewal } from '../observability.js';
import { gateRunOutcome, recordGateRun } from '../gate/runMetrics.js';

/** Results kept in the state output (failed first); the counts are always complete. */
export const MAX_RESULTS_LISTED = 100;
/** A failure's cause as kept in the state output and the logs: the CA's problem detail fits, a stack trace does not. */
export const MAX_CAUSE_CHARS = 1_000;

/** One child execution as the ResultWriter lists it (AWS's result file format). */
export interface ChildExecutionResult {
  readonly ExecutionArn: string;
  readonly Status: string;
  readonly Input: string;
  readonly Output?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

interface Manifest {
  readonly ResultFiles: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', Array<{ Key: string }>>>;
}

const truncate = (text: string | undefined) => (text === undefined || text.length <= MAX_CAUSE_CHARS ? text : `${text.slice(0, MAX_CAUSE_CHARS)}… (truncated)`);

function parse(json: string | undefined): Record<string, unknown> | undefined {
  try {
    const value = json ? (JSON.parse(json) as unknown) : undefined;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A child's item result: what its last state returned or, when the child itself
 * failed (a quota, a state outside the Catches), a failure named by its input.
 */
export function itemResultOf(child: ChildExecutionResult): ItemResult {
  const output = child.Status === 'SUCCEEDED' ? parse(child.Output) : undefined;
  if (output && typeof output.name === 'string' && ['renewed', 'failed', 'deferred'].includes(output.outcome as string)) {
    const result = output as unknown as ItemResult;
    return result.cause === undefined ? result : { ...result, cause: truncate(result.cause) };
  }
  const input = parse(child.Input);
  return {
    name: typeof input?.name === 'string' ? input.name : child.ExecutionArn,
    ...(typeof input?.reason === 'string' ? { reason: input.reason } : {}),
    outcome: 'failed',
    error: child.Error ?? `Child${child.Status}`,
    ...(child.Cause !== undefined ? { cause: truncate(child.Cause) } : {}),
  };
}

/** Every child execution the map run wrote, succeeded and failed alike. */
export async function readMapRunResults(ctx: ContextFor<'runObjects'>, results: MapRunResults): Promise<ItemResult[]> {
  const bucket = results.ResultWriterDetails.Bucket;
  const manifest = await ctx.runObjects.getJson<Manifest>(results.ResultWriterDetails.Key, bucket);
  const files = [...(manifest.ResultFiles.FAILED ?? []), ...(manifest.ResultFiles.SUCCEEDED ?? []), ...(manifest.ResultFiles.PENDING ?? [])];
  const items: ItemResult[] = [];
  for (const file of files) {
    for (const child of await ctx.runObjects.getJson<ChildExecutionResult[]>(file.Key, bucket)) items.push(itemResultOf(child));
  }
  return items;
}

const RANK: Record<ItemResult['outcome'], number> = { failed: 0, deferred: 1, renewed: 2 };

export async function summarize(ctx: ContextFor<'runObjects'>, input: SummarizeInput): Promise<SummarizeOutput> {
  const results = await readMapRunResults(ctx, input.results);
  const renewed = results.filter((r) => r.outcome === 'renewed');
  const failed = results.filter((r) => r.outcome === 'failed');
  const deferred = results.filter((r) => r.outcome === 'deferred');
  recordRenewal('succeeded', renewed.length);
  recordRenewal('failed', failed.length);
  for (const f of failed) logger.error('certificate renewal failed', { certificate: f.name, error: f.error, cause: f.cause });
  const gate = gateRunOutcome(results);
  recordGateRun(gate, (ctx.now().getTime() - Date.parse(input.check.checkedAt)) / 1000);
  for (const name of gate.blocked) logger.error('staging gate blocked production', { certificate: name });
  for (const d of deferred) logger.warn('certificate renewal deferred by the CA', { certificate: d.name, retryAfter: d.retryAfter });
  const byBudget = input.check.deferredByBudget ?? 0;
  const listed = [...results].sort((a, b) => RANK[a.outcome] - RANK[b.outcome] || a.name.localeCompare(b.name)).slice(0, MAX_RESULTS_LISTED);
  return {
    renewed: renewed.length,
    skipped: input.check.skippedCount,
    failed: failed.length,
    failedNames: failed.slice(0, MAX_RESULTS_LISTED).map((f) => f.name),
    deferred: deferred.length + byBudget,
    deferredByBudget: byBudget,
    ...(input.check.nextBudgetSlot ? { nextBudgetSlot: input.check.nextBudgetSlot } : {}),
    results: listed,
  };
}
