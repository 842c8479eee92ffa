// `certpipe history [name]`: recent executions with outcome, duration and the
// step that failed; with a name, only the runs that did something with it.
import pc from 'picocolors';
import { fittedTable, type Layout } from '../layout.js';
import { findSpec, layoutOf, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';
import { recentExecutions, type ExecutionSummary } from './executions.js';

export interface HistoryOptions extends GlobalOptions {
  limit?: number;
}

export async function historyCommand(name: string | undefined, target: Target, opts: HistoryOptions, io: CliIO): Promise<number> {
  if (name) findSpec(target, name);
  const limit = opts.limit ?? 10;
  let executions = await recentExecutions(target, name ? Math.max(limit, 50) : limit);
  if (name) {
    executions = executions
      .filter((e) => e.certificates.some((r) => r.name === name) || e.status !== 'SUCCEEDED')
      .map((e) => ({ ...e, certificates: e.certificates.filter((r) => r.name === name) }))
      .slice(0, limit);
  }
  if (opts.json) {
    printJson(io, { target: target.description, executions });
    return 0;
  }
  println(io, executions.length ? renderHistory(executions, layoutOf(io, opts)) : `no executions${name ? ` for ${name}` : ''} in ${target.description}`);
  return 0;
}

const outcomeCounts = (certs: readonly { outcome: string }[]) => {
  const counts = new Map<string, number>();
  for (const r of certs) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
};

/** An ARN's last name (the session of an assumed role, the user, the secret), whole with --wide; other words as they are. */
const shortCaller = (startedBy: string) => (startedBy.startsWith('arn:') ? (startedBy.split(/[:/]/).pop() ?? startedBy) : startedBy);

/** The history table: fitted, with counts per outcome and the failed steps; `--wide` names the execution and every certificate. */
export function renderHistory(executions: readonly ExecutionSummary[], layout: Layout): string {
  const c = pc.createColors(layout.color);
  const wide = layout.width === undefined;
  const rows = executions.map((e) => {
    const failed = [
      ...(e.failedStep ? [e.failedStep] : []),
      ...e.certificates.filter((r) => r.failedStep).map((r) => `${r.name}: ${r.failedStep}${wide ? ` (${r.error ?? 'error'})` : ''}`),
    ].join(wide ? '\n' : ', ');
    const status = e.status === 'SUCCEEDED' ? c.green(e.status) : e.status === 'RUNNING' ? c.yellow(e.status) : c.red(e.status);
    const started = e.startDate?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? '';
    const duration = e.durationSeconds === undefined ? '' : `${e.durationSeconds.toFixed(1)}s`;
    return wide
      ? [started, e.name, status, duration, `${e.startedBy}${e.why ? `\n${e.why}` : ''}`, e.certificates.map((r) => `${r.name} ${r.outcome}`).join('\n'), failed]
      : [started.replace('T', ' ').replace(/:\d\dZ$/, 'Z'), status, duration, shortCaller(e.startedBy), outcomeCounts(e.certificates), failed];
  });
  const head = wide
    ? ['started', 'execution', 'status', 'duration', 'started by', 'certificates', 'failed step']
    : ['started', 'status', 'duration', 'started by', 'certificates', 'failed step'];
  return fittedTable(head, rows, layout, wide ? [0] : [0, 1, 2]);
}
