// Starts one execution of the renewal workflow through the Step Functions API and
// follows it to the end; works against the local cloud or a real account alike.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
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

export async function executionHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Polls until the execution ends; `onProgress` sees each new history event once. */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  options: { pollMs?: number; timeoutMs?: number; onProgress?: (event: HistoryEvent) => void } = {},
): Promise<FinishedExecution> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let seen = 0;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (options.onProgress) {
      const history = await executionHistory(sfn, executionArn);
      for (const event of history.slice(seen)) options.onProgress(event);
      seen = history.length;
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
        history: await executionHistory(sfn, executionArn),
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
