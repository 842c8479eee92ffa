// Connects a state machine's Task states to local Lambda functions. The ASL
// engine (aws-local-stepfunctions) overrides Tasks by STATE NAME, so the
// definition is walked once, each Task's Resource mapped to a registered
// function, and each call recorded as the history events Step Functions emits.
import { randomUUID } from 'node:crypto';
import { resolveFunctionArn } from '../lambda/functions.js';
import { FunctionError, FunctionNotFound, type LambdaFunctions } from '../lambda/service.js';
import type { OperationInput } from '../../iam/operations.js';
import { AwsError } from '../../types.js';
import { isDistributedMap, splitDistributedMap, type DistributedMapSpec } from './distributed-map.js';
import { dataLimitExceeded, payloadBytes } from './quotas.js';

/** `arn:aws:states:::lambda:invoke`: the optimised Lambda integration (Parameters.FunctionName / Payload). */
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
/** A bare function ARN as the Resource: the legacy Lambda task. */
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:/;

/** The engine's default Task timeout is 60 s; AWS has none. Enforced here instead (setTimeout's ceiling). */
const ENGINE_TASK_TIMEOUT_SECONDS = 2_000_000;

/** One history event without its id and timestamp, e.g. `{ type: 'TaskScheduled', taskScheduledEventDetails: {...} }`. */
export type HistoryEventInit = { readonly type: string } & Record<string, unknown>;

export interface TaskExecutionContext {
  readonly accountId: string;
  readonly region: string;
  readonly functions: LambdaFunctions;
  /** Records a history event, in order with the engine's own events. */
  emit(event: HistoryEventInit): void;
  /** False once the execution was stopped: no new invocation may start. */
  isRunning(): boolean;
  /** A task result larger than this fails the execution with States.DataLimitExceeded. */
  readonly maxPayloadBytes: number;
  /** Judges a call Step Functions makes as the execution's role; throws the service's AccessDenied when refused. */
  asRole(service: string, operation: string, input: OperationInput): Promise<void>;
  /** Runs a DISTRIBUTED Map's map run (child executions) and returns the state's result. */
  runMap(spec: DistributedMapSpec, input: Json): Promise<Json>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type TaskHandler = (input: Json) => Promise<Json>;

interface TaskTarget {
  readonly resource: string;
  /** The state's static TimeoutSeconds, enforced by the handler. */
  readonly timeoutSeconds?: number;
}

/**
 * An error the ASL's Retry/Catch see: the engine matches ErrorEquals against
 * `name`, and puts `message` in the Cause, so `message` holds the Cause text.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** Like Step Functions' States.Runtime: neither retried nor caught. */
class TaskRuntimeFailure extends TaskFailure {
  readonly isRetryable = false;
  readonly isCatchable = false;
}

type StateDefinition = Record<string, unknown> & { Type?: string };
type MachineDefinition = { States?: Record<string, StateDefinition> } & Record<string, unknown>;

export interface PlannedDefinition {
  /** The definition to give the engine (Task timeouts moved out of its hands). */
  readonly definition: MachineDefinition;
  /** Task state name → what it calls. */
  readonly tasks: ReadonlyMap<string, TaskTarget>;
  /** DISTRIBUTED Map state name → its map run; the engine sees a Task in its place. */
  readonly distributedMaps: ReadonlyMap<string, DistributedMapSpec>;
}

/** Walks a definition, Map ItemProcessor/Iterator and Parallel branches included, collecting its Task states. */
export function planDefinition(source: MachineDefinition): PlannedDefinition {
  const definition = structuredClone(source);
  const tasks = new Map<string, TaskTarget>();
  const distributedMaps = new Map<string, DistributedMapSpec>();
  const walk = (machine: MachineDefinition | undefined) => {
    for (const [name, state] of Object.entries(machine?.States ?? {})) {
      if (isDistributedMap(state)) {
        // Its ItemProcessor is planned when each child execution starts.
        const { spec, task } = splitDistributedMap(name, state);
        distributedMaps.set(name, spec);
        machine!.States![name] = { ...task, TimeoutSeconds: ENGINE_TASK_TIMEOUT_SECONDS };
      } else if (state.Type === 'Task') {
        const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
        tasks.set(name, { resource: String(state.Resource), timeoutSeconds });
        if (state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = ENGINE_TASK_TIMEOUT_SECONDS;
      } else if (state.Type === 'Map') {
        walk((state.ItemProcessor ?? state.Iterator) as MachineDefinition | undefined);
      } else if (state.Type === 'Parallel') {
        for (const branch of (state.Branches as MachineDefinition[] | undefined) ?? []) walk(branch);
      }
    }
  };
  walk(definition);
  return { definition, tasks, distributedMaps };
}

const asJson = (value: unknown) => JSON.stringify(value ?? null);
const causeOf = (errorType: string, errorMessage: string) => JSON.stringify({ errorType, errorMessage });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Task state name → the engine override that invokes the mapped local function. */
export function taskHandlers(plan: PlannedDefinition, ctx: TaskExecutionContext): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = {};
  for (const [stateName, target] of plan.tasks) {
    handlers[stateName] = (input) => invokeTask(stateName, target, input, ctx);
  }
  for (const [stateName, spec] of plan.distributedMaps) {
    handlers[stateName] = async (input) => {
      await nextTurn();
      return ctx.runMap(spec, input);
    };
  }
  return handlers;
}

/** How the two Lambda task styles name their history events. */
interface EventStyle {
  scheduled(payload: Json, parameters: Json): HistoryEventInit;
  started(): HistoryEventInit;
  succeeded(output: Json): HistoryEventInit;
  failed(error: string, cause: string): HistoryEventInit;
  /** The events of an invoke the execution role may not make. */
  refused(payload: Json, parameters: Json, error: string, cause: string): HistoryEventInit[];
  timedOut(error: string, cause: string): HistoryEventInit;
}

function lambdaFunctionStyle(resource: string, timeoutSeconds: number | undefined): EventStyle {
  return {
    scheduled: (payload) => ({
      type: 'LambdaFunctionScheduled',
      lambdaFunctionScheduledEventDetails: { resource, input: asJson(payload), inputDetails: { truncated: false }, timeoutInSeconds: timeoutSeconds },
    }),
    started: () => ({ type: 'LambdaFunctionStarted' }),
    succeeded: (output) => ({ type: 'LambdaFunctionSucceeded', lambdaFunctionSucceededEventDetails: { output: asJson(output), outputDetails: { truncated: false } } }),
    failed: (error, cause) => ({ type: 'LambdaFunctionFailed', lambdaFunctionFailedEventDetails: { error, cause } }),
    // The function is never scheduled: Step Functions records the schedule failure instead.
    refused: (_payload, _parameters, error, cause) => [{ type: 'LambdaFunctionScheduleFailed', lambdaFunctionScheduleFailedEventDetails: { error, cause } }],
    timedOut: (error, cause) => ({ type: 'LambdaFunctionTimedOut', lambdaFunctionTimedOutEventDetails: { error, cause } }),
  };
}

function serviceIntegrationStyle(region: string, timeoutSeconds: number | undefined): EventStyle {
  const resource = { resourceType: 'lambda', resource: 'invoke' };
  return {
    scheduled: (_payload, parameters) => ({
      type: 'TaskScheduled',
      taskScheduledEventDetails: { ...resource, region, parameters: asJson(parameters), timeoutInSeconds: timeoutSeconds },
    }),
    started: () => ({ type: 'TaskStarted', taskStartedEventDetails: resource }),
    succeeded: (output) => ({ type: 'TaskSucceeded', taskSucceededEventDetails: { ...resource, output: asJson(output), outputDetails: { truncated: false } } }),
    failed: (error, cause) => ({ type: 'TaskFailed', taskFailedEventDetails: { ...resource, error, cause } }),
    // The task starts: the refusal is Lambda's answer to the Invoke call.
    refused(payload, parameters, error, cause) {
      return [this.scheduled(payload, parameters), this.started(), this.failed(error, cause)];
    },
    timedOut: (error, cause) => ({ type: 'TaskTimedOut', taskTimedOutEventDetails: { ...resource, error, cause } }),
  };
}

async function invokeTask(stateName: string, target: TaskTarget, input: Json, ctx: TaskExecutionContext): Promise<Json> {
  // The engine queues "state entered" before calling us and hands its events over
  // asynchronously: let them be recorded first so the history reads in order.
  await nextTurn();
  if (!ctx.isRunning()) throw new TaskRuntimeFailure('States.Runtime', 'The execution was stopped');

  const serviceIntegration = LAMBDA_INVOKE.test(target.resource);
  if (!serviceIntegration && !LAMBDA_ARN.test(target.resource)) {
    throw new TaskRuntimeFailure(
      'States.Runtime',
      `The local Step Functions runs Lambda tasks only (a function ARN or arn:aws:states:::lambda:invoke), not ${target.resource}`,
    );
  }
  const parameters = (serviceIntegration && input && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Record<string, Json>;
  const reference = serviceIntegration ? String(parameters.FunctionName ?? '') : target.resource;
  const payload = serviceIntegration ? (parameters.Payload ?? {}) : input;
  const style = serviceIntegration
    ? serviceIntegrationStyle(ctx.region, target.timeoutSeconds)
    : lambdaFunctionStyle(target.resource, target.timeoutSeconds);

  const requestId = randomUUID();
  const arn = resolveFunctionArn(reference, { region: ctx.region, accountId: ctx.accountId });
  if (arn) {
    // IAM decides before Lambda looks the function up, as in AWS.
    const refusal = await invokeRefusal(arn, requestId, ctx);
    if (refusal) {
      for (const event of style.refused(payload, input, refusal.name, refusal.message)) ctx.emit(event);
      throw refusal;
    }
  }
  ctx.emit(style.scheduled(payload, input));
  if (!arn || !(await ctx.functions.get(arn))) {
    const cause =
      `Function not found: ${arn ?? reference} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; ` +
      `Request ID: ${requestId}). Register it with POST /_certpipe/lambda/functions.`;
    ctx.emit(style.failed('Lambda.ResourceNotFoundException', cause));
    throw new TaskFailure('Lambda.ResourceNotFoundException', cause);
  }
  ctx.emit(style.started());

  let timer: NodeJS.Timeout | undefined;
  try {
    const invocation = ctx.functions.invoke(arn, payload, requestId);
    const result = (await (target.timeoutSeconds === undefined
      ? invocation
      : Promise.race([
          invocation,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new TaskFailure('States.Timeout', '')), target.timeoutSeconds! * 1000);
          }),
        ]))) as Json;
    if (!ctx.isRunning()) throw new TaskRuntimeFailure('States.Runtime', 'The execution was stopped');
    const bytes = payloadBytes(serviceIntegration ? invokeResponse(result, requestId) : result);
    if (bytes > ctx.maxPayloadBytes) {
      // A terminal error: neither Retry nor Catch (not even States.ALL) sees it.
      const { error, cause } = dataLimitExceeded('result', stateName, bytes, ctx.maxPayloadBytes);
      ctx.emit(style.failed(error, cause));
      throw new TaskRuntimeFailure(error, cause);
    }
    ctx.emit(style.succeeded(result));
    return serviceIntegration ? invokeResponse(result, requestId) : result;
  } catch (err) {
    if (err instanceof TaskRuntimeFailure) throw err;
    if (err instanceof TaskFailure && err.name === 'States.Timeout') {
      // Step Functions stops waiting; the function itself runs on, as on AWS.
      ctx.emit(style.timedOut('States.Timeout', ''));
      throw err;
    }
    const { errorType, errorMessage } =
      err instanceof FunctionError
        ? err
        : err instanceof FunctionNotFound
          ? { errorType: 'Lambda.ResourceNotFoundException', errorMessage: err.message }
          : { errorType: 'Lambda.ServiceException', errorMessage: (err as Error).message };
    const cause = causeOf(errorType, errorMessage);
    ctx.emit(style.failed(errorType, cause));
    throw new TaskFailure(errorType, cause);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The Task's `lambda:InvokeFunction` as the execution role: refused, it fails
 * the state with `Lambda.AWSLambdaException` and the AccessDeniedException in
 * the cause, as Step Functions reports Lambda's answer.
 */
async function invokeRefusal(arn: string, requestId: string, ctx: TaskExecutionContext): Promise<TaskFailure | undefined> {
  try {
    await ctx.asRole('lambda', 'Invoke', { protocol: 'json', body: { FunctionName: arn } });
    return undefined;
  } catch (err) {
    if (!(err instanceof AwsError)) throw err;
    return new TaskFailure(
      'Lambda.AWSLambdaException',
      `${err.message} (Service: AWSLambda; Status Code: ${err.status}; Error Code: ${err.code}; Request ID: ${requestId}; Proxy: null)`,
    );
  }
}

/** What `arn:aws:states:::lambda:invoke` returns: the Invoke API response, the function's result in Payload. */
function invokeResponse(payload: Json, requestId: string): Json {
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      HttpHeaders: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}
