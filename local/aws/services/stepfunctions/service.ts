// Step Functions (AWS JSON 1.0) for the local endpoint. State machines run in
// this process on npm `aws-local-stepfunctions`, each Lambda Task on the local
// Lambda service (reached only through its LambdaFunctions seam, see
// task-handlers.ts), and every execution (status, input, output, history) is
// persisted so a restart of the endpoint loses nothing.
import { randomInt, randomUUID } from 'node:crypto';
import type { CloudWatchService } from '../cloudwatch/service.js';
import type { LambdaService } from '../lambda/service.js';
import { definitionProblems } from './definition.js';
import { runMapRun, type ChildResult, type DistributedMapSpec } from './distributed-map.js';
import type { S3Service } from '../s3/service.js';
import { dataLimitExceeded, executionQuotas, historyLimitReached, payloadBytes, type ExecutionQuotas, type QuotaFailure } from './quotas.js';
import { planDefinition, taskHandlers, type HistoryEventInit } from './task-handlers.js';
import type { OperationInput } from '../../iam/operations.js';
import { decodeToken, encodeToken, epochSeconds, jsonService } from '../../protocol.js';
import {
  AwsError,
  type CallContext,
  type Collection,
  type LocalCloud,
  type LocalService,
  type ServiceFactory,
} from '../../types.js';

// aws-local-stepfunctions calls Promise.withResolvers (Node 22+) when a Task runs.
(function polyfillWithResolvers() {
  const P = Promise as unknown as { withResolvers?: () => unknown };
  if (typeof P.withResolvers === 'function') return;
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
})();

type Engine = typeof import('aws-local-stepfunctions');
let engine: Promise<Engine> | undefined;
/** Loaded on first use: it pulls in the Lambda SDK, which the endpoint's start need not wait for. */
const loadEngine = () => (engine ??= import('aws-local-stepfunctions'));

type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface StateMachineRecord {
  readonly name: string;
  readonly stateMachineArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly creationDate: number;
  readonly updateDate?: number;
}

interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly roleArn: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  /** Epoch milliseconds. */
  readonly startDate: number;
  readonly stopDate?: number;
}

/** A history event as stored: the API shape, timestamp in epoch milliseconds. */
type HistoryEvent = HistoryEventInit & { readonly id: number; readonly previousEventId: number; readonly timestamp: number };

interface History {
  readonly events: HistoryEvent[];
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
// Execution names may hold more than state machine names, but never what would break an ARN.
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:([A-Za-z0-9_-]{1,80})$/;
// A map run's child execution is named `<state machine>/<map run id>:<child>`.
const EXECUTION_ARN = /^arn:aws[\w-]*:states:([a-z0-9-]+):(\d{12}):execution:([A-Za-z0-9_-]{1,80}(?:\/[^:/]{1,80})?):([^:]{1,80})$/;
const HISTORY_FLUSH_MS = 250;
const MAX_KEY_TIME = 9_999_999_999_999;

const stateMachineKey = (accountId: string, region: string, name: string) => `${accountId}/${region}/${name}/`;
/** Newest first within a state machine: the key starts with the inverted start time. */
const executionKey = (r: ExecutionRecord, machineName: string) =>
  `${stateMachineKey(r.accountId, r.region, machineName)}${String(MAX_KEY_TIME - r.startDate).padStart(13, '0')}/${r.name}`;

function parseStateMachineArn(arn: unknown, ctx: CallContext) {
  const m = STATE_MACHINE_ARN.exec(String(arn ?? ''));
  if (!m) throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${String(arn)}'`);
  return { region: m[1]!, accountId: m[2]!, name: m[3]!, sameCaller: m[1] === ctx.region && m[2] === ctx.accountId };
}

function parseExecutionArn(arn: unknown) {
  const m = EXECUTION_ARN.exec(String(arn ?? ''));
  if (!m) throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${String(arn)}'`);
  return { region: m[1]!, accountId: m[2]!, machineName: m[3]!, name: m[4]! };
}

const MAP_RUN_ARN = /^arn:aws[\w-]*:states:([a-z0-9-]+):(\d{12}):mapRun:([A-Za-z0-9_-]{1,80})\/[^:]+:([0-9a-f-]{36})$/;

function parseMapRunArn(arn: unknown) {
  const m = MAP_RUN_ARN.exec(String(arn ?? ''));
  if (!m) throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${String(arn)}'`);
  return { region: m[1]!, accountId: m[2]!, machineName: m[3]!, id: m[4]! };
}

/** A map run's children are kept apart from the state machine's own executions (newest first, as those). */
const mapRunChildPrefix = (machine: { accountId: string; region: string; name: string }, mapRunId: string) =>
  `${stateMachineKey(machine.accountId, machine.region, machine.name).slice(0, -1)}:maprun/${mapRunId}/`;

function pageSize(maxResults: unknown, fallback: number): number {
  const n = maxResults === undefined || maxResults === null || maxResults === 0 ? fallback : Number(maxResults);
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`);
  }
  return n;
}

/** Keys of a collection under a prefix, in order, from `from` on. */
function* keysUnder(collection: Collection<unknown>, prefix: string, from?: string): Generator<string> {
  let cursor = from ?? prefix;
  for (;;) {
    const batch = collection.keysFrom(cursor, 256);
    for (const key of batch) {
      if (!key.startsWith(prefix)) return;
      yield key;
    }
    if (batch.length < 256) return;
    cursor = `${batch[batch.length - 1]}\u0000`;
  }
}

interface EngineEvent {
  type: string;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  index?: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string };
}

/** One execution in progress in this process. */
class Run {
  readonly events: HistoryEvent[];
  stopRequest: { error?: string; cause?: string } | undefined;
  /** Set once the outcome is decided: later events (a task finishing after a stop) are dropped. */
  closed = false;
  abort: () => void = () => undefined;
  done: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Map and Parallel states (name#iteration) whose last attempt failed. */
  private readonly failedContainers = new Set<string>();
  /** Set when a quota ended the execution: it fails with this, whatever the engine says. */
  quotaFailure: QuotaFailure | undefined;
  /** DISTRIBUTED Map states, which the engine runs as Tasks: their events are the Map's. */
  mapStates: ReadonlySet<string> = new Set();
  /** A map run's child: its parent's key (no execution metrics of its own: the parent's alarms count the parent). */
  parentKey: string | undefined;
  /** The session under which Step Functions calls as the execution role (AWS names it with 32 random letters). */
  readonly sessionName = Array.from({ length: 32 }, () => SESSION_LETTERS[randomInt(SESSION_LETTERS.length)]).join('');

  constructor(
    readonly key: string,
    public record: ExecutionRecord,
    private readonly persist: (run: Run) => Promise<void>,
    private readonly now: () => number,
    readonly quotas: ExecutionQuotas,
  ) {
    this.events = [];
  }

  /** Ends the execution on a quota; the terminal event is recorded by finish(). */
  exceeded(failure: QuotaFailure): void {
    if (this.quotaFailure) return;
    this.quotaFailure = failure;
    this.abort();
  }

  emit(event: HistoryEventInit, timestamp = this.now()): void {
    if (this.closed) return;
    // The last place in the history is kept for the execution's own end: only success may take it.
    if (!TERMINAL_EVENTS.has(event.type) && this.events.length >= this.quotas.maxHistoryEvents - 1) {
      this.exceeded(historyLimitReached(this.quotas.maxHistoryEvents));
      return;
    }
    if (this.quotaFailure && !TERMINAL_EVENTS.has(event.type)) return;
    const id = this.events.length + 1;
    this.events.push({ ...event, id, previousEventId: id - 1, timestamp });
    this.scheduleFlush();
  }

  /** The history so far reaches the disk every so often; one write at a time, so a long history never piles writes up. */
  private scheduleFlush(): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.flushing) {
        void this.flushing.then(() => this.scheduleFlush());
        return;
      }
      this.flushing = this.persist(this).finally(() => {
        this.flushing = undefined;
      });
    }, HISTORY_FLUSH_MS);
  }

  cancelFlush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private checkPayload(what: 'input' | 'output', stateName: string, value: unknown): void {
    const bytes = payloadBytes(value);
    if (bytes > this.quotas.maxPayloadBytes) this.exceeded(dataLimitExceeded(what, stateName, bytes, this.quotas.maxPayloadBytes));
  }

  /** Maps one event of aws-local-stepfunctions to the events AWS records for it. */
  fromEngine(e: EngineEvent): void {
    const details = (value: unknown) => JSON.stringify(value ?? null);
    const state = e.state && this.mapStates.has(e.state.name) ? { ...e.state, type: 'Map' } : e.state;
    // History event names start with the state's type: TaskStateEntered, MapStateExited, …
    const prefix = state?.type ?? '';
    switch (e.type) {
      case 'ExecutionStarted':
        this.emit({
          type: 'ExecutionStarted',
          executionStartedEventDetails: { input: details(e.input), inputDetails: { truncated: false }, roleArn: this.record.roleArn },
        });
        break;
      case 'StateEntered':
        this.checkPayload('input', state!.name, state!.input);
        this.emit({ type: `${prefix}StateEntered`, stateEnteredEventDetails: { name: state!.name, input: details(state!.input), inputDetails: { truncated: false } } });
        break;
      case 'StateExited':
        this.checkPayload('output', state!.name, state!.output);
        // A caught failure also exits the state, but it did not succeed.
        if ((state!.type === 'Map' || state!.type === 'Parallel') && !this.failedContainers.delete(`${state!.name}#${e.index}`)) {
          this.emit({ type: `${prefix}StateSucceeded` });
        }
        this.emit({ type: `${prefix}StateExited`, stateExitedEventDetails: { name: state!.name, output: details(state!.output), outputDetails: { truncated: false } } });
        break;
      case 'StateFailed':
        if (state!.type === 'Map' || state!.type === 'Parallel') {
          this.emit({ type: `${prefix}StateFailed` });
          this.failedContainers.add(`${state!.name}#${e.index}`);
        }
        break;
      case 'StateRetried':
        if (state) this.failedContainers.delete(`${state.name}#${e.index}`);
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const key = `${e.type[0]!.toLowerCase()}${e.type.slice(1)}EventDetails`;
        this.emit({ type: e.type, [key]: { name: e.parentState?.name, index: e.index } });
        break;
      }
      // Execution outcomes are recorded by finish(); catches have no events of their own.
      default:
        break;
    }
  }
}

const OUTCOME_METRIC: Record<Exclude<ExecutionStatus, 'RUNNING'>, string> = {
  SUCCEEDED: 'ExecutionsSucceeded',
  FAILED: 'ExecutionsFailed',
  TIMED_OUT: 'ExecutionsTimedOut',
  ABORTED: 'ExecutionsAborted',
};

const SESSION_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const TERMINAL_EVENTS = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

interface Outcome {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  output?: string;
  error?: string;
  cause?: string;
}

function terminalEvent(outcome: Outcome): HistoryEventInit {
  switch (outcome.status) {
    case 'SUCCEEDED':
      return { type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: outcome.output, outputDetails: { truncated: false } } };
    case 'ABORTED':
      return { type: 'ExecutionAborted', executionAbortedEventDetails: { error: outcome.error, cause: outcome.cause } };
    case 'TIMED_OUT':
      return { type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: outcome.error, cause: outcome.cause } };
    case 'FAILED':
      return { type: 'ExecutionFailed', executionFailedEventDetails: { error: outcome.error, cause: outcome.cause } };
  }
}

/** The execution's input and output leave the history when includeExecutionData is false. */
function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(copy)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object') {
      const { input: _input, output: _output, parameters: _parameters, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    }
  }
  return copy as HistoryEvent;
}

class StepFunctions {
  private readonly runs = new Map<string, Run>();
  private readonly byArn = new Map<string, string>();
  private readonly writes = new Set<Promise<unknown>>();
  private machines!: Collection<StateMachineRecord>;
  private executions!: Collection<ExecutionRecord>;
  private histories!: Collection<History>;
  private closing = false;
  readonly ready: Promise<void>;

  constructor(private readonly cloud: LocalCloud) {
    this.ready = this.load();
    this.ready.catch(() => undefined);
  }

  private async load(): Promise<void> {
    const [machines, executions, histories] = await Promise.all([
      this.cloud.store.collection<StateMachineRecord>('stepfunctions/state-machines'),
      this.cloud.store.collection<ExecutionRecord>('stepfunctions/executions'),
      this.cloud.store.collection<History>('stepfunctions/histories'),
    ]);
    this.machines = machines;
    this.executions = executions;
    this.histories = histories;
    const now = this.cloud.now().getTime();
    for (const key of executions.keys()) {
      const record = executions.get(key)!;
      this.byArn.set(record.executionArn, key);
      if (record.status !== 'RUNNING') continue;
      // It was running in a process that is gone: nothing will ever finish it.
      const outcome: Outcome = { status: 'FAILED', error: 'States.Runtime', cause: 'local endpoint restarted' };
      const events = [...(histories.get(key)?.events ?? [])];
      const id = events.length + 1;
      events.push({ ...terminalEvent(outcome), id, previousEventId: id - 1, timestamp: now });
      await histories.put(key, { events });
      await executions.put(key, { ...record, ...outcome, stopDate: now });
    }
  }

  private track<T>(write: Promise<T>): Promise<T> {
    this.writes.add(write);
    const forget = () => this.writes.delete(write);
    write.then(forget, forget);
    return write;
  }

  // --- state machines ---

  private machine(arn: unknown, ctx: CallContext): StateMachineRecord {
    const parsed = parseStateMachineArn(arn, ctx);
    const record = parsed.sameCaller ? this.machines.get(stateMachineKey(parsed.accountId, parsed.region, parsed.name)) : undefined;
    if (!record) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return record;
  }

  private validateDefinition(definition: unknown): void {
    if (typeof definition !== 'string' || !definition) throw new AwsError('InvalidDefinition', 'Invalid State Machine Definition: definition is required');
    let parsed: unknown;
    try {
      parsed = JSON.parse(definition);
    } catch (err) {
      throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ${(err as Error).message}'`);
    }
    const problems = definitionProblems(parsed);
    if (problems.length) throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: '${problems.join(', ')}'`);
  }

  async createStateMachine(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const name = String(input.name ?? '');
    if (!NAME.test(name)) throw new AwsError('InvalidName', `Invalid Name: '${name}'`);
    if (!input.roleArn) throw new AwsError('ValidationException', "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') throw new AwsError('ValidationException', `Invalid type: '${String(type)}'`);
    this.validateDefinition(input.definition);
    const key = stateMachineKey(ctx.accountId, ctx.region, name);
    const existing = this.machines.get(key);
    if (existing) {
      // Idempotent as on AWS: the same request again returns the machine it created.
      if (existing.definition === input.definition && existing.roleArn === input.roleArn && existing.type === type) {
        return { stateMachineArn: existing.stateMachineArn, creationDate: epochSeconds(existing.creationDate) };
      }
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${existing.stateMachineArn}'`);
    }
    const record: StateMachineRecord = {
      name,
      stateMachineArn: `arn:aws:states:${ctx.region}:${ctx.accountId}:stateMachine:${name}`,
      accountId: ctx.accountId,
      region: ctx.region,
      definition: input.definition,
      roleArn: String(input.roleArn),
      type,
      creationDate: ctx.now.getTime(),
    };
    await this.track(this.machines.put(key, record));
    return { stateMachineArn: record.stateMachineArn, creationDate: epochSeconds(record.creationDate) };
  }

  async updateStateMachine(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const record = this.machine(input.stateMachineArn, ctx);
    if (input.definition === undefined && input.roleArn === undefined) {
      throw new AwsError('MissingRequiredParameter', 'Either the definition or the roleArn must be specified');
    }
    if (input.definition !== undefined) this.validateDefinition(input.definition);
    const updated: StateMachineRecord = {
      ...record,
      definition: input.definition ?? record.definition,
      roleArn: input.roleArn ?? record.roleArn,
      updateDate: ctx.now.getTime(),
    };
    await this.track(this.machines.put(stateMachineKey(record.accountId, record.region, record.name), updated));
    return { updateDate: epochSeconds(updated.updateDate!) };
  }

  async describeStateMachine(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const r = this.machine(input.stateMachineArn, ctx);
    return {
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: 'ACTIVE',
      definition: r.definition,
      roleArn: r.roleArn,
      type: r.type,
      creationDate: epochSeconds(r.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  async listStateMachines(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const limit = pageSize(input.maxResults, 100);
    const prefix = `${ctx.accountId}/${ctx.region}/`;
    const from = decodeToken(input.nextToken, 'InvalidToken');
    if (from !== undefined && !from.startsWith(prefix)) throw new AwsError('InvalidToken', 'Invalid Token');
    const stateMachines: unknown[] = [];
    let nextToken: string | undefined;
    for (const key of keysUnder(this.machines as Collection<unknown>, prefix, from)) {
      if (stateMachines.length === limit) {
        nextToken = encodeToken(key);
        break;
      }
      const r = this.machines.get(key)!;
      stateMachines.push({ stateMachineArn: r.stateMachineArn, name: r.name, type: r.type, creationDate: epochSeconds(r.creationDate) });
    }
    return { stateMachines, nextToken };
  }

  // --- executions ---

  private executionKeyOf(arn: unknown, ctx: CallContext): string {
    const parsed = parseExecutionArn(arn);
    const key = parsed.accountId === ctx.accountId && parsed.region === ctx.region ? this.byArn.get(String(arn)) : undefined;
    if (!key) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return key;
  }

  async startExecution(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const machine = this.machine(input.stateMachineArn, ctx);
    const name = input.name === undefined || input.name === null ? randomUUID() : String(input.name);
    if (!EXECUTION_NAME.test(name)) throw new AwsError('InvalidName', `Invalid Name: '${name}'`);
    const rawInput = input.input === undefined || input.input === null ? '{}' : String(input.input);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(rawInput);
    } catch {
      throw new AwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: 'Unexpected token in JSON'`);
    }
    const executionArn = `arn:aws:states:${machine.region}:${machine.accountId}:execution:${machine.name}:${name}`;
    const existingKey = this.byArn.get(executionArn);
    if (existingKey) {
      const existing = this.executions.get(existingKey)!;
      // AWS returns the original start for a repeat while it runs with the same input.
      if (existing.status === 'RUNNING' && existing.input === rawInput) {
        return { executionArn, startDate: epochSeconds(existing.startDate) };
      }
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.stateMachineArn,
      name,
      accountId: machine.accountId,
      region: machine.region,
      roleArn: machine.roleArn,
      status: 'RUNNING',
      input: rawInput,
      startDate: ctx.now.getTime(),
    };
    const key = executionKey(record, machine.name);
    this.byArn.set(executionArn, key);
    await this.track(this.executions.put(key, record));
    const persist = (r: Run) => this.track(this.histories.put(r.key, { events: [...r.events] })).catch(() => undefined);
    const run = new Run(key, record, persist, () => this.cloud.now().getTime(), executionQuotas());
    this.runs.set(key, run);
    this.publishMetric(record, [{ name: 'ExecutionsStarted', value: 1, unit: 'Count' }]);
    run.done = this.execute(run, machine, JSON.parse(machine.definition), parsedInput).catch((err) => {
      console.error(`[certpipe-local] execution ${executionArn} failed to run`, err);
    });
    return { executionArn, startDate: epochSeconds(record.startDate) };
  }

  private async execute(run: Run, machine: StateMachineRecord, definition: Record<string, unknown>, input: unknown): Promise<void> {
    let outcome: Outcome;
    try {
      const { StateMachine, ExecutionAbortedError, ExecutionTimeoutError } = await loadEngine();
      const plan = planDefinition(definition);
      run.mapStates = new Set(plan.distributedMaps.keys());
      const handlers = taskHandlers(plan, {
        asRole: this.asRole(run, machine),
        runMap: (spec, mapInput) => this.runMap(run, machine, spec, mapInput),
        accountId: machine.accountId,
        region: machine.region,
        functions: this.cloud.service<LambdaService>('lambda').functions,
        emit: (event) => run.emit(event),
        isRunning: () => !run.closed && !run.stopRequest && !run.quotaFailure,
        maxPayloadBytes: run.quotas.maxPayloadBytes,
      });
      const sm = new StateMachine(plan.definition as unknown as ConstructorParameters<Engine['StateMachine']>[0], {
        validationOptions: { noValidate: true },
      });
      const execution = sm.run(input as Parameters<InstanceType<Engine['StateMachine']>['run']>[0], {
        overrides: { taskResourceLocalHandlers: handlers },
        context: {
          Execution: { Id: run.record.executionArn, Name: run.record.name, RoleArn: run.record.roleArn },
          StateMachine: { Id: machine.stateMachineArn, Name: machine.name },
        },
      });
      run.abort = execution.abort;
      const recorded = (async () => {
        for await (const event of execution.eventLogs) run.fromEngine(event as EngineEvent);
      })();
      try {
        const output = await execution.result;
        const bytes = payloadBytes(output);
        outcome =
          bytes > run.quotas.maxPayloadBytes
            ? { status: 'FAILED', ...dataLimitExceeded('output', 'the execution', bytes, run.quotas.maxPayloadBytes) }
            : { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) };
      } catch (err) {
        if (run.quotaFailure) {
          outcome = { status: 'FAILED', ...run.quotaFailure };
        } else if (run.stopRequest || err instanceof ExecutionAbortedError) {
          outcome = { status: 'ABORTED', ...run.stopRequest };
        } else if (err instanceof ExecutionTimeoutError) {
          outcome = { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than the state machine TimeoutSeconds' };
        } else {
          const cause = (err as Error).cause as Error | undefined;
          outcome = cause instanceof Error
            ? { status: 'FAILED', error: cause.name, cause: cause.message }
            : { status: 'FAILED', error: 'States.Runtime', cause: (err as Error).message };
        }
      }
      // The engine hands its last events over after the result settles.
      await Promise.race([recorded, new Promise((resolve) => setTimeout(resolve, 1000))]);
      // A quota seen in those last events (an oversized final state) still decides the outcome.
      if (run.quotaFailure && outcome.status !== 'ABORTED') outcome = { status: 'FAILED', ...run.quotaFailure };
    } catch (err) {
      outcome = { status: 'FAILED', error: 'States.Runtime', cause: (err as Error).message };
    }
    await this.finish(run, outcome);
  }

  private async finish(run: Run, outcome: Outcome): Promise<void> {
    if (run.closed) return;
    run.emit(terminalEvent(outcome));
    run.closed = true;
    // A parent that ends (stopped, timed out, failed) takes its map runs' children with it, as in AWS.
    for (const child of this.runs.values()) {
      if (child.parentKey === run.key && !child.closed) {
        child.stopRequest = { error: 'States.Runtime', cause: `The parent execution ended ${outcome.status}` };
        child.abort();
      }
    }
    run.cancelFlush();
    this.runs.delete(run.key);
    // Shutting down: leave it RUNNING on disk; the next start marks it failed.
    if (this.closing) return;
    const record: ExecutionRecord = { ...run.record, ...outcome, stopDate: run.events[run.events.length - 1]!.timestamp };
    run.record = record;
    if (!run.parentKey) this.publishMetric(record, [
      { name: OUTCOME_METRIC[outcome.status], value: 1, unit: 'Count' },
      { name: 'ExecutionTime', value: record.stopDate! - record.startDate, unit: 'Milliseconds' },
    ]);
    await this.track(this.histories.put(run.key, { events: [...run.events] }));
    await this.track(this.executions.put(run.key, record));
  }

  /** Judges a call Step Functions makes for this execution, as its role (CERTPIPE_IAM applies): throws the service's AccessDenied. */
  private asRole(run: Run, machine: StateMachineRecord) {
    return (service: string, operation: string, input: OperationInput) =>
      this.cloud.iam.checkAsRole(
        { roleArn: run.record.roleArn, sessionName: run.sessionName },
        service,
        operation,
        input,
        { accountId: machine.accountId, region: machine.region },
        this.cloud.now(),
      );
  }

  /**
   * A DISTRIBUTED Map's map run: each item a child execution of the ItemProcessor,
   * with its own history and the same quotas; items and results in the parent's
   * account's S3. Each StartExecution, GetObject and PutObject is judged as the
   * parent's role, as AWS does.
   */
  private runMap(parent: Run, machine: StateMachineRecord, spec: DistributedMapSpec, input: unknown) {
    const s3 = this.cloud.service<S3Service>('s3');
    const account = machine.accountId;
    const asRole = this.asRole(parent, machine);
    return runMapRun(spec, input as never, {
      parentArn: parent.record.executionArn,
      region: machine.region,
      accountId: account,
      stateMachineArn: machine.stateMachineArn,
      parentContext: {
        Execution: { Id: parent.record.executionArn, Name: parent.record.name, RoleArn: parent.record.roleArn, StartTime: new Date(parent.record.startDate).toISOString() },
        StateMachine: { Id: machine.stateMachineArn, Name: machine.name },
      },
      runChild: async (mapRunArn, definition, childInput) => {
        await asRole('states', 'StartExecution', { protocol: 'json', body: { stateMachineArn: machine.stateMachineArn } });
        return this.runChild(parent, machine, mapRunArn, definition, childInput);
      },
      getObject: async (bucket, key) => {
        await asRole('s3', 'GetObject', { protocol: 'rest-xml', bucket, key });
        return s3.getObject(bucket, key, account);
      },
      putObject: async (bucket, key, body) => {
        await asRole('s3', 'PutObject', { protocol: 'rest-xml', bucket, key });
        await s3.putObject(bucket, key, Buffer.from(body), account, 'application/json');
      },
      emit: (event) => parent.emit(event),
      isRunning: () => !parent.closed && !parent.stopRequest && !parent.quotaFailure,
    });
  }

  private async runChild(parent: Run, machine: StateMachineRecord, mapRunArn: string, definition: Record<string, unknown>, input: unknown): Promise<ChildResult> {
    const mapRunId = mapRunArn.split(':').pop()!;
    const name = randomUUID();
    const startDate = this.cloud.now().getTime();
    const record: ExecutionRecord = {
      executionArn: `arn:aws:states:${machine.region}:${machine.accountId}:execution:${machine.name}/${mapRunId}:${name}`,
      stateMachineArn: machine.stateMachineArn,
      name,
      accountId: machine.accountId,
      region: machine.region,
      roleArn: parent.record.roleArn,
      status: 'RUNNING',
      input: JSON.stringify(input ?? null),
      startDate,
    };
    // Not under the state machine's key prefix: ListExecutions shows no map run children, as in AWS without mapRunArn.
    const key = `${mapRunChildPrefix(machine, mapRunId)}${String(MAX_KEY_TIME - startDate).padStart(13, '0')}/${name}`;
    this.byArn.set(record.executionArn, key);
    await this.track(this.executions.put(key, record));
    const persist = (r: Run) => this.track(this.histories.put(r.key, { events: [...r.events] })).catch(() => undefined);
    const run = new Run(key, record, persist, () => this.cloud.now().getTime(), executionQuotas());
    run.parentKey = parent.key;
    this.runs.set(key, run);
    run.done = this.execute(run, machine, definition, input);
    await run.done;
    const done = run.record;
    return {
      ExecutionArn: done.executionArn,
      Name: done.name,
      StateMachineArn: done.stateMachineArn,
      Status: done.status === 'RUNNING' ? 'ABORTED' : done.status,
      Input: done.input,
      ...(done.output !== undefined ? { Output: done.output } : {}),
      ...(done.error !== undefined ? { Error: done.error } : {}),
      ...(done.cause !== undefined ? { Cause: done.cause } : {}),
      StartDate: new Date(done.startDate).toISOString(),
      StopDate: new Date(done.stopDate ?? this.cloud.now().getTime()).toISOString(),
    };
  }

  /** Step Functions' own metrics (AWS/States, per StateMachineArn), which the ExecutionsFailed alarm reads. */
  private publishMetric(record: ExecutionRecord, metrics: Array<{ name: string; value: number; unit: string }>): void {
    this.cloud
      .service<CloudWatchService>('monitoring')
      .metrics.publish({ account: record.accountId, region: record.region }, 'AWS/States', metrics, [{ Name: 'StateMachineArn', Value: record.stateMachineArn }]);
  }

  async describeExecution(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const r = this.executions.get(this.executionKeyOf(input.executionArn, ctx))!;
    return {
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: epochSeconds(r.startDate),
      stopDate: r.stopDate === undefined ? undefined : epochSeconds(r.stopDate),
      input: r.input,
      inputDetails: { included: true },
      output: r.output,
      outputDetails: r.output === undefined ? undefined : { included: true },
      error: r.error,
      cause: r.cause,
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  async listExecutions(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    if ((input.stateMachineArn === undefined) === (input.mapRunArn === undefined)) {
      throw new AwsError('ValidationException', 'Exactly one of stateMachineArn and mapRunArn must be given');
    }
    const mapRun = input.mapRunArn === undefined ? undefined : parseMapRunArn(input.mapRunArn);
    const machine = this.machine(mapRun ? `arn:aws:states:${mapRun.region}:${mapRun.accountId}:stateMachine:${mapRun.machineName}` : input.stateMachineArn, ctx);
    const limit = pageSize(input.maxResults, 100);
    const status = input.statusFilter as ExecutionStatus | undefined;
    const prefix = mapRun ? mapRunChildPrefix(machine, mapRun.id) : stateMachineKey(machine.accountId, machine.region, machine.name);
    const from = decodeToken(input.nextToken, 'InvalidToken');
    if (from !== undefined && !from.startsWith(prefix)) throw new AwsError('InvalidToken', 'Invalid Token');
    const executions: unknown[] = [];
    let nextToken: string | undefined;
    for (const key of keysUnder(this.executions as Collection<unknown>, prefix, from)) {
      const r = this.executions.get(key)!;
      if (status && r.status !== status) continue;
      if (executions.length === limit) {
        nextToken = encodeToken(key);
        break;
      }
      executions.push({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: epochSeconds(r.startDate),
        stopDate: r.stopDate === undefined ? undefined : epochSeconds(r.stopDate),
      });
    }
    return { executions, nextToken };
  }

  async getExecutionHistory(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const key = this.executionKeyOf(input.executionArn, ctx);
    const all = this.runs.get(key)?.events ?? this.histories.get(key)?.events ?? [];
    const ordered = input.reverseOrder ? [...all].reverse() : all;
    const limit = pageSize(input.maxResults, 100);
    const token = decodeToken(input.nextToken, 'InvalidToken');
    const start = token === undefined ? 0 : Number(token);
    if (!Number.isInteger(start) || start < 0) throw new AwsError('InvalidToken', 'Invalid Token');
    const page = ordered.slice(start, start + limit);
    const includeData = input.includeExecutionData !== false;
    return {
      events: page.map((e) => {
        const event = includeData ? e : withoutData(e);
        return { ...event, timestamp: epochSeconds(event.timestamp) };
      }),
      nextToken: start + limit < ordered.length ? encodeToken(String(start + limit)) : undefined,
    };
  }

  async stopExecution(input: Record<string, any>, ctx: CallContext) {
    await this.ready;
    const key = this.executionKeyOf(input.executionArn, ctx);
    const run = this.runs.get(key);
    if (run && !run.closed) {
      run.stopRequest = {
        error: input.error === undefined ? undefined : String(input.error),
        cause: input.cause === undefined ? undefined : String(input.cause),
      };
      run.abort();
      await run.done;
    }
    const record = this.executions.get(key)!;
    return { stopDate: epochSeconds(record.stopDate ?? ctx.now.getTime()) };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const run of this.runs.values()) {
      // The history so far is kept; the status stays RUNNING until the next start settles it.
      run.cancelFlush();
      void this.track(this.histories.put(run.key, { events: [...run.events] })).catch(() => undefined);
      run.abort();
    }
    await Promise.all([...this.runs.values()].map((run) => run.done));
    await Promise.allSettled([...this.writes]);
  }
}

const stepFunctions: ServiceFactory = (cloud: LocalCloud): LocalService => {
  const sfn = new StepFunctions(cloud);
  const op =
    <K extends keyof StepFunctions>(name: K) =>
    (input: Record<string, any>, ctx: CallContext) =>
      (sfn[name] as (input: Record<string, any>, ctx: CallContext) => Promise<unknown>).call(sfn, input, ctx);
  const base = jsonService({
    signingName: 'states',
    targetPrefix: 'AWSStepFunctions',
    jsonVersion: '1.0',
    operations: {
      CreateStateMachine: op('createStateMachine'),
      UpdateStateMachine: op('updateStateMachine'),
      DescribeStateMachine: op('describeStateMachine'),
      ListStateMachines: op('listStateMachines'),
      StartExecution: op('startExecution'),
      DescribeExecution: op('describeExecution'),
      ListExecutions: op('listExecutions'),
      GetExecutionHistory: op('getExecutionHistory'),
      StopExecution: op('stopExecution'),
    },
  });
  return { ...base, close: () => sfn.close() };
};

export default stepFunctions;
