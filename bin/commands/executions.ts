// Recent executions of the renewal workflow and what each did per certificate,
// read from the Step Functions history (the workflow keeps no other run log).
import { DescribeExecutionCommand, ListExecutionsCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { auditOf } from '../../functions/lib/audit/audit.js';
import { executionHistory } from '../run.js';
import { certificateRows, type CertificateRow } from '../report.js';
import { rehearsalName } from '../../functions/lib/gate/rehearsal.js';
import type { Target } from './context.js';
import { inventoryWithAdopted } from './requests.js';

export interface ExecutionSummary {
  executionArn: string;
  name: string;
  status: string;
  startDate?: Date;
  stopDate?: Date;
  /** Seconds from start to stop (or to now while running). */
  durationSeconds?: number;
  /** The state that failed the whole execution, if it failed. */
  failedStep?: string;
  error?: string;
  /** Audit trail: who or what started the execution (`schedule`, the CLI caller's ARN, …) and why. */
  startedBy: string;
  why: string;
  /** Certificates this execution touched (renewed, skipped or failed), with the step a failure happened in. */
  certificates: (CertificateRow & { failedStep?: string })[];
}

function parse(json: string | undefined): any {
  try {
    return json ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The step each failed certificate failed in: its iteration is sequential, so the
 * last state it entered before the failure clean-up is the one that failed.
 */
function failedSteps(history: HistoryEvent[]): Map<string, string> {
  const last = new Map<string, string>();
  const failed = new Map<string, string>();
  for (const event of history) {
    const entered = event.stateEnteredEventDetails;
    if (!entered?.name) continue;
    const cert = parse(entered.input)?.name;
    if (typeof cert !== 'string') continue;
    if (entered.name === 'CleanupAfterFailure') {
      if (last.has(cert)) failed.set(cert, last.get(cert)!);
    } else {
      last.set(cert, entered.name);
    }
  }
  return failed;
}

/** The state entered last before an execution-level failure. */
function executionFailedStep(history: HistoryEvent[]): string | undefined {
  let last: string | undefined;
  for (const event of history) {
    if (event.stateEnteredEventDetails?.name) last = event.stateEnteredEventDetails.name;
    if (event.type === 'ExecutionFailed' || event.type === 'ExecutionTimedOut') return last;
  }
  return undefined;
}

export async function summarizeExecution(
  target: Target,
  execution: { executionArn: string; name?: string; status?: string; startDate?: Date; stopDate?: Date },
  history?: HistoryEvent[],
): Promise<ExecutionSummary> {
  const events = history ?? (await executionHistory(target.sfn, execution.executionArn));
  const steps = failedSteps(events);
  // Adopted self-service certificates are rows too, under the name status shows.
  const rows = certificateRows(events, await inventoryWithAdopted(target))
    .filter((r) => r.outcome !== 'not run')
    .map((r) => {
      const step = r.staging === 'failed' ? steps.get(rehearsalName(r.name)) : steps.get(r.name);
      return r.outcome === 'failed' && step ? { ...r, failedStep: step } : r;
    });
  const status = execution.status ?? 'UNKNOWN';
  const end = execution.stopDate ?? (status === 'RUNNING' ? new Date() : undefined);
  let error: string | undefined;
  if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED') {
    const described = await target.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    error = [described.error, described.cause].filter(Boolean).join(': ') || undefined;
  }
  return {
    executionArn: execution.executionArn,
    name: execution.name ?? execution.executionArn.split(':').pop() ?? '',
    status,
    startDate: execution.startDate,
    stopDate: execution.stopDate,
    durationSeconds:
      execution.startDate && end ? Math.max(0, (end.getTime() - execution.startDate.getTime()) / 1000) : undefined,
    failedStep: status === 'SUCCEEDED' || status === 'RUNNING' ? undefined : executionFailedStep(events),
    ...(error ? { error } : {}),
    ...auditOf(parse(events.find((e) => e.type === 'ExecutionStarted')?.executionStartedEventDetails?.input) ?? {}),
    certificates: rows,
  };
}

/** The most recent executions, newest first. */
export async function recentExecutions(target: Target, limit: number): Promise<ExecutionSummary[]> {
  const listed = await target.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, maxResults: Math.min(Math.max(limit, 1), 1000) }),
  );
  const executions = [...(listed.executions ?? [])]
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))
    .slice(0, limit);
  const summaries: ExecutionSummary[] = [];
  for (const e of executions) summaries.push(await summarizeExecution(target, { ...e, executionArn: e.executionArn! }));
  return summaries;
}

export interface LastRun {
  executionArn: string;
  at?: string;
  outcome: CertificateRow['outcome'] | 'running';
  reason?: string;
  error?: string;
  failedStep?: string;
  /** For `deferred`: when the CA lets the certificate ask again. */
  retryAfter?: string;
  /** The staging gate in that run (see CertificateRow). */
  staging?: 'passed' | 'failed';
}

/** Per certificate, the latest execution that did something with it. */
export function lastRuns(executions: ExecutionSummary[]): Map<string, LastRun> {
  const result = new Map<string, LastRun>();
  for (const e of executions) {
    for (const row of e.certificates) {
      if (result.has(row.name)) continue;
      result.set(row.name, {
        executionArn: e.executionArn,
        ...(e.startDate ? { at: e.startDate.toISOString() } : {}),
        outcome: e.status === 'RUNNING' ? 'running' : row.outcome,
        ...(row.reason ? { reason: row.reason } : {}),
        ...(row.error ? { error: row.error } : {}),
        ...(row.failedStep ? { failedStep: row.failedStep } : {}),
        ...(row.retryAfter ? { retryAfter: row.retryAfter } : {}),
        ...(row.staging ? { staging: row.staging } : {}),
      });
    }
  }
  return result;
}
