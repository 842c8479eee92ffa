// `certpipe renew`: start an execution narrowed to some certificates and, with
// --wait, follow it: a line per certificate and step, then the outcome.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { startExecution, waitForExecution } from '../run.js';
import { colors, findSpec, printJson, println, usageError, type CliIO, type GlobalOptions, type Target } from './context.js';
import { summarizeExecution } from './executions.js';

export interface RenewOptions extends GlobalOptions {
  all?: boolean;
  force?: boolean;
  wait?: boolean;
  /** Poll interval while following. */
  pollMs?: number;
}

function parse(json: string | undefined): any {
  try {
    return json ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
}

/** One progress line for a history event, or undefined for events not worth a line. */
export function progressLine(event: HistoryEvent): string | undefined {
  const entered = event.stateEnteredEventDetails;
  if (entered?.name) {
    const cert = parse(entered.input)?.name;
    if (typeof cert === 'string') return `${cert}: ${entered.name}`;
    return undefined;
  }
  const exited = event.stateExitedEventDetails;
  if (exited?.name === 'CheckExpiry') {
    const check = parse(exited.output)?.check ?? parse(exited.output);
    const due: { name: string; reason: string }[] = check?.due ?? [];
    const skipped: { name: string; reason: string }[] = check?.skipped ?? [];
    return [
      `due: ${due.map((d) => `${d.name} (${d.reason})`).join(', ') || 'none'}`,
      ...(skipped.length ? [`skipped: ${skipped.map((d) => `${d.name} (${d.reason})`).join(', ')}`] : []),
    ].join('; ');
  }
  return undefined;
}

export async function renewCommand(names: string[], target: Target, opts: RenewOptions, io: CliIO): Promise<number> {
  if (opts.all && names.length) throw usageError('give certificate names or --all, not both');
  if (!opts.all && !names.length) throw usageError('name the certificates to renew, or pass --all');
  for (const name of names) findSpec(target, name);

  const input = { ...(opts.all ? {} : { only: names }), ...(opts.force ? { force: true } : {}) };
  const executionArn = await startExecution(target.sfn, target.stateMachineArn, input);
  if (!opts.wait) {
    if (opts.json) printJson(io, { executionArn, status: 'RUNNING' });
    else println(io, `started ${executionArn}`);
    return 0;
  }

  const c = colors(io);
  const started = Date.now();
  if (!opts.json) println(io, `following ${executionArn}`);
  const finished = await waitForExecution(target.sfn, executionArn, {
    pollMs: opts.pollMs ?? 1000,
    onProgress: (event) => {
      if (opts.json) return;
      const line = progressLine(event);
      if (line) println(io, `${c.dim(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`)} ${line}`);
    },
  });
  const summary = await summarizeExecution(
    target,
    { executionArn, status: finished.status, startDate: finished.startDate, stopDate: finished.stopDate },
    finished.history,
  );
  const wanted = opts.all ? summary.certificates : summary.certificates.filter((r) => names.includes(r.name));
  const failed = finished.status !== 'SUCCEEDED' || wanted.some((r) => r.outcome === 'failed');

  if (opts.json) {
    printJson(io, summary);
  } else {
    for (const row of wanted) {
      const what =
        row.outcome === 'failed'
          ? c.red(`failed${row.failedStep ? ` in ${row.failedStep}` : ''}: ${row.error ?? ''}`)
          : row.outcome === 'renewed'
            ? c.green(`renewed, valid until ${row.notAfter ?? '?'}, published to ${row.publishedTo.join(', ') || 'the secret'}`)
            : `${row.outcome}${row.reason ? ` (${row.reason})` : ''}`;
      println(io, `${row.name}: ${what}`);
    }
    const status = finished.status === 'SUCCEEDED' ? c.green(finished.status) : c.red(finished.status);
    println(io, `execution ${status}${summary.error ? `: ${summary.error}` : ''}`);
  }
  return failed ? 1 : 0;
}
