// Starts one execution of the renewal workflow through the Step Functions API and
// follows it to the end; works against the local cloud or a real account alike.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  type ExecutionListItem,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';

export interface ExecutionInput {
  readonly only?: string[];
  readonly force?: boolean;
  /** Audit trail (functions/lib/audit/audit.ts). */
  readonly startedBy?: string;
  readonly why?: string;
}

export interface FinishedExecution {
  readonly executionArn: string;
  readonly status: string;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
  readonly history: HistoryEvent[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startExecution(sfn: SFNClient, stateMachineArn: string, input: ExecutionInput): Promise<string> {
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  return started.executionArn!;
}

async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function mapRunChildren(sfn: SFNClient, mapRunArn: string): Promise<ExecutionListItem[]> {
  const children: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ mapRunArn, nextToken, maxResults: 1000 }));
    children.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  // Listed newest first; read in the order they started.
  return children.reverse();
}

/**
 * An execution's history and, for each map run it started (RenewEach is a
 * Distributed Map), the histories of its child executions: each certificate's
 * states are in its own child's history. A finished child is read once.
 */
export class ExecutionHistories {
  private readonly finished = new Map<string, HistoryEvent[]>();

  constructor(
    private readonly sfn: SFNClient,
    readonly executionArn: string,
  ) {}

  /** The parent's events first, then each child's, in start order. */
  async read(): Promise<Array<{ executionArn: string; events: HistoryEvent[] }>> {
    const parent = await historyOf(this.sfn, this.executionArn);
    const out = [{ executionArn: this.executionArn, events: parent }];
    for (const event of parent) {
      const mapRunArn = event.mapRunStartedEventDetails?.mapRunArn;
      if (!mapRunArn) continue;
      for (const child of await mapRunChildren(this.sfn, mapRunArn)) {
        const arn = child.executionArn!;
        let events = this.finished.get(arn);
        if (!events) {
          events = await historyOf(this.sfn, arn);
          if (child.status !== 'RUNNING') this.finished.set(arn, events);
        }
        out.push({ executionArn: arn, events });
      }
    }
    return out;
  }
}

/** Every event of the execution and of its map runs' child executions (see ExecutionHistories). */
export async function executionHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  return (await new ExecutionHistories(sfn, executionArn).read()).flatMap((h) => h.events);
}

/** Polls until the execution ends; `onProgress` sees each new history event once. */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  options: { pollMs?: number; timeoutMs?: number; onProgress?: (event: HistoryEvent) => void } = {},
): Promise<FinishedExecution> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const histories = new ExecutionHistories(sfn, executionArn);
  const seen = new Map<string, number>();
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (options.onProgress) {
      for (const { executionArn: arn, events } of await histories.read()) {
        for (const event of events.slice(seen.get(arn) ?? 0)) options.onProgress(event);
        seen.set(arn, events.length);
      }
    }
    if (described.status !== 'RUNNING' && described.status !== 'PENDING_REDRIVE') {
      return {
        executionArn,
        status: described.status ?? 'UNKNOWN',
        output: described.output ? JSON.parse(described.output) : undefined,
        error: described.error,
        cause: described.cause,
        startDate: described.startDate,
        stopDate: described.stopDate,
        history: (await histories.read()).flatMap((h) => h.events),
      };
    }
    if (Date.now() > deadline) throw new Error(`Execution ${executionArn} still running after the wait timed out`);
    await sleep(options.pollMs ?? 500);
  }
}

export async function runExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  input: ExecutionInput,
  options?: Parameters<typeof waitForExecution>[2],
): Promise<FinishedExecution> {
  return waitForExecution(sfn, await startExecution(sfn, stateMachineArn, input), options);
}
