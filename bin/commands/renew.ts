// `certpipe renew`: start an execution narrowed to some certificates and, with
// --wait, follow it: a line per certificate and step with the running count
// (a spinner on a terminal), then the outcome.
import { fitLines } from '../layout.js';
import { createReporter } from '../progress/reporter.js';
import { countsText, ExecutionTracker } from '../progress/tracker.js';
import { startExecution, waitForExecution } from '../run.js';
import { colors, findSpec, layoutOf, printJson, println, usageError, type CliIO, type GlobalOptions, type Target } from './context.js';
import { cliAuditFor } from './caller.js';
import { summarizeExecution, type ExecutionSummary } from './executions.js';

export interface RenewOptions extends GlobalOptions {
  all?: boolean;
  force?: boolean;
  wait?: boolean;
  /** Why, for the audit trail; default: the command as given. */
  why?: string;
  /** Poll interval while following. */
  pollMs?: number;
}

export async function renewCommand(names: string[], target: Target, opts: RenewOptions, io: CliIO): Promise<number> {
  if (opts.all && names.length) throw usageError('give certificate names or --all, not both');
  if (!opts.all && !names.length) throw usageError('name the certificates to renew, or pass --all');
  for (const name of names) await findSpec(target, name);

  const asked = `certpipe renew ${opts.all ? '--all' : names.join(' ')}${opts.force ? ' --force' : ''}`;
  const audit = await cliAuditFor(target, opts.why ?? asked);
  const input = { ...(opts.all ? {} : { only: names }), ...(opts.force ? { force: true } : {}), ...audit };
  const executionArn = await startExecution(target.sfn, target.stateMachineArn, input);
  if (!opts.wait) {
    if (opts.json) printJson(io, { executionArn, status: 'RUNNING' });
    else println(io, `started ${executionArn}`);
    return 0;
  }

  const { finished, summary } = await followExecution(executionArn, target, opts, io);
  const wanted = opts.all ? summary.certificates : summary.certificates.filter((r) => names.includes(r.name));
  const failed = finished.status !== 'SUCCEEDED' || wanted.some((r) => r.outcome === 'failed');

  if (opts.json) {
    printJson(io, summary);
  } else {
    println(io, outcomeLines(wanted, finished.status, summary.error, opts, io));
  }
  return failed ? 1 : 0;
}

/** Follows an execution to its end: a line per certificate and step (none with --json), then its summary. */
export async function followExecution(executionArn: string, target: Target, opts: RenewOptions, io: CliIO) {
  const c = colors(io);
  const started = Date.now();
  if (!opts.json) println(io, `following ${executionArn}`);
  const tracker = new ExecutionTracker();
  const progress = createReporter(io.stdout, { isTTY: io.isTTY, color: io.isTTY && !io.env.NO_COLOR, width: layoutOf(io, opts).width });
  if (!opts.json) progress.status('starting…');
  const finished = await waitForExecution(target.sfn, executionArn, {
    pollMs: opts.pollMs ?? 1000,
    onProgress: (event) => {
      if (opts.json) return;
      for (const line of tracker.observe(event)) progress.line(`${c.dim(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`)} ${line}`);
      progress.status(`renewing: ${countsText(tracker.counts)}`);
    },
  }).finally(() => progress.stop());
  const summary = await summarizeExecution(
    target,
    { executionArn, status: finished.status, startDate: finished.startDate, stopDate: finished.stopDate },
    finished.history,
  );
  return { finished, summary };
}

/** One line per certificate with its outcome, then the execution's status. */
export function outcomeLines(
  wanted: ExecutionSummary['certificates'],
  status: string,
  error: string | undefined,
  opts: GlobalOptions,
  io: CliIO,
): string {
  const c = colors(io);
  const lines: string[] = [];
  for (const row of wanted) {
    const what =
      row.outcome === 'failed'
        ? c.red(`failed${row.failedStep ? ` in ${row.failedStep}` : ''}: ${row.error ?? ''}`)
        : row.outcome === 'renewed'
          ? c.green(`renewed, valid until ${row.notAfter ?? '?'}, published to ${row.publishedTo.join(', ') || 'the secret'}`)
          : `${row.outcome}${row.reason ? ` (${row.reason})` : ''}`;
    lines.push(`${row.name}: ${what}`);
  }
  const shown = status === 'SUCCEEDED' ? c.green(status) : c.red(status);
  return `${fitLines(lines, layoutOf(io, opts).width).join('\n')}\nexecution ${shown}${error ? `: ${error}` : ''}`;
}
